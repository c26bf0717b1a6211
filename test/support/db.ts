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
