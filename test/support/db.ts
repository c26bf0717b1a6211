import { join } from 'node:path';
import pg from 'pg';

/** Reads the embedded database of a daemon directly, to prove what did or did not change. */
export async function queryEmbedded(berthDir: string, sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ host: join(berthDir, 'database'), port: 5432, user: 'berth', database: 'berth' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Undoes the applied migrations, newest first, down to and including `name` (a migration test
 * stays right when newer migrations are added after the one it tests).
 */
export async function undoMigrationsThrough(dataSource: { query(sql: string): Promise<Array<{ name: string }>>; undoLastMigration(options: { transaction: 'each' }): Promise<void> }, name: string): Promise<void> {
  for (;;) {
    const [last] = await dataSource.query('SELECT name FROM migrations ORDER BY id DESC LIMIT 1');
    if (!last) throw new Error(`migration ${name} is not applied`);
    await dataSource.undoLastMigration({ transaction: 'each' });
    if (last.name === name) return;
  }
}
