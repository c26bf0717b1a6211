import { DataSource, type DataSourceOptions } from 'typeorm';
import type { BerthConfig } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { AdvisoryLocks, type Connection } from './advisory-locks.js';
import { EmbeddedDatabase } from './embedded-postgres.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Classes = Function[];

/** Key of the session-level advisory lock that serializes schema migrations across daemons. */
const MIGRATION_LOCK = 0x62657274; // "bert"

/**
 * The pool serves short queries and transactions only: no operation holds a pooled connection
 * while it waits on the kernel or a container (its lock lives on AdvisoryLocks' own connection).
 * Twenty connections let 32 parallel requests through with a short wait; a request that cannot get
 * one within ten seconds is answered 503 "try again" (isDatabaseUnavailable). The embedded
 * server's max_connections (100) leaves room for several daemons and the lock sessions.
 */
export const POOL = { max: 20, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 } as const;

export function dataSourceOptions(
  connection: Connection,
  entities: Classes,
  migrations: Classes,
): DataSourceOptions {
  return {
    type: 'postgres',
    ...connection,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    logging: false,
    extra: { ...POOL },
  };
}

/** The database the daemon uses: DATABASE_URL when set, the embedded server otherwise. */
export class Database {
  /** True when this start created the schema: the daemon's first start on this database. */
  firstStart = false;

  private constructor(readonly dataSource: DataSource, readonly locks: AdvisoryLocks, readonly embedded?: EmbeddedDatabase) {}

  static async open(config: BerthConfig, log: Logger, entities: Classes, migrations: Classes): Promise<Database> {
    let embedded: EmbeddedDatabase | undefined;
    let connection: Parameters<typeof dataSourceOptions>[0];
    if (config.DATABASE_URL) {
      connection = { url: config.DATABASE_URL };
    } else {
      embedded = new EmbeddedDatabase(config.BERTH_DIR, config.BERTH_DB_USER, log.child({ component: 'postgres' }));
      await embedded.start();
      connection = embedded.connection;
    }
    const dataSource = new DataSource(dataSourceOptions(connection, entities, migrations));
    for (let attempt = 1; ; attempt++) {
      try {
        await dataSource.initialize();
        break;
      } catch (err) {
        log.warn({ attempt, err: (err as Error).message }, 'database unreachable; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
      }
    }
    const db = new Database(dataSource, new AdvisoryLocks(connection, log.child({ component: 'locks' })), embedded);
    await db.migrate(log);
    return db;
  }

  /** Applies pending migrations once, even when several daemons start together. */
  private async migrate(log: Logger) {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const applied = await this.dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
      this.firstStart = applied.length > 0 && applied[0].name === this.dataSource.migrations[0]?.name;
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      await runner.release();
    }
  }

  get kind(): { embedded: boolean } {
    return { embedded: this.embedded !== undefined };
  }

  async close(): Promise<void> {
    await this.locks.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

/** True when an error means "the database cannot be reached", as opposed to a bad query. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: string; message?: string; driverError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
    if (typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(e.message)) return true;
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return false;
}

/**
 * Runs `write` again while the database cannot be reached, for up to `patienceMs`: an operation
 * recording the outcome of work already done on the host (a container booted) goes on once
 * Postgres is back instead of failing, and undoing that work, over a restart of the database.
 */
export async function persisting<T>(write: () => Promise<T>, patienceMs = 60_000): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
    }
  }
}

/** True for Postgres' unique_violation (a concurrent create of the same name). */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === '23505';
}

/** A row refers to one that does not exist (a foreign key refused it). */
export function isForeignKeyViolation(err: unknown): boolean {
  return sqlState(err) === '23503';
}

function sqlState(err: unknown): string | undefined {
  const e = err as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code;
}
