import pg from 'pg';
import type { Logger } from '../logging/logger.js';

export type Connection = { url: string } | { host: string; port: number; username: string; database: string; password?: string };

const key = (classId: number, objectId: number) => `${classId}:${objectId}`;

/**
 * Postgres session-level advisory locks that outlive a transaction (an instance's lock for the
 * length of a boot), all held on one connection set aside for them, outside the pool: a long
 * operation holds a lock, never a pooled connection. Within this daemon the locks are also kept in
 * memory, so a second take of a held lock is refused although Postgres' session locks are
 * re-entrant. If the connection drops (Postgres restarted), Postgres has released them: they are
 * taken again as soon as it is back, and meanwhile the memory keeps this daemon's operations apart.
 * A daemon killed takes its session, and so its locks, with it.
 */
export class AdvisoryLocks {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private closed = false;
  /** Locks this daemon holds, and those it is taking. */
  private readonly held = new Set<string>();
  private readonly taking = new Set<string>();
  /** The locks taken by background work (the reconciler), which a request may wait for. */
  private readonly background = new Set<string>();
  /** Locks being released: free in a moment (Postgres has not answered the unlock yet). */
  private readonly releasing = new Set<string>();

  constructor(private readonly connection: Connection, private readonly log: Logger) {}

  /** Takes the lock unless this daemon or another holds it; false then. Throws when Postgres cannot be reached. */
  async tryLock(classId: number, objectId: number, { background = false } = {}): Promise<boolean> {
    const k = key(classId, objectId);
    if (this.held.has(k) || this.taking.has(k)) return false;
    this.taking.add(k);
    if (background) this.background.add(k);
    try {
      const client = await this.session();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [classId, objectId]);
      if (rows[0].locked) this.held.add(k);
      else this.background.delete(k);
      return rows[0].locked;
    } catch (err) {
      this.background.delete(k);
      throw err;
    } finally {
      this.taking.delete(k);
    }
  }

  /**
   * True while the lock is held only for a moment: by background work of this daemon (the
   * reconciler), or being released. A request may wait for it rather than answer "busy".
   */
  shortlyFree(classId: number, objectId: number): boolean {
    const k = key(classId, objectId);
    return this.background.has(k) || this.releasing.has(k);
  }

  /** True while this daemon holds (or is taking) the lock. */
  holds(classId: number, objectId: number): boolean {
    const k = key(classId, objectId);
    return this.held.has(k) || this.taking.has(k);
  }

  /** Held (in memory) until Postgres has released it too, so that no one finds it free too early. */
  async unlock(classId: number, objectId: number): Promise<void> {
    const k = key(classId, objectId);
    if (!this.held.has(k) || this.releasing.has(k)) return;
    this.releasing.add(k);
    try {
      // With the session gone, Postgres has released it already.
      await this.client?.query('SELECT pg_advisory_unlock($1, $2)', [classId, objectId]).catch((err: Error) => this.log.warn({ err: err.message }, 'releasing an advisory lock failed'));
    } finally {
      this.held.delete(k);
      this.background.delete(k);
      this.releasing.delete(k);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private session(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.closed) return Promise.reject(new Error('the advisory lock session is closed'));
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const options: pg.ClientConfig =
      'url' in this.connection
        ? { connectionString: this.connection.url }
        : { host: this.connection.host, port: this.connection.port, user: this.connection.username, database: this.connection.database, password: this.connection.password };
    const client = new pg.Client({ ...options, connectionTimeoutMillis: 5000, application_name: 'berthd locks' });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      if (!this.closed) this.log.warn({ err: err?.message, held: this.held.size }, 'the advisory lock session was lost; its locks are taken again when the database is back');
      if (this.held.size > 0 && !this.closed) this.retake();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    for (const k of [...this.held]) {
      const [classId, objectId] = k.split(':').map(Number);
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [classId, objectId]);
      if (!rows[0].locked) this.log.error({ lock: k }, 'a lock this daemon held was taken by another session while the database was away');
      // Released while being taken again.
      else if (!this.held.has(k)) await client.query('SELECT pg_advisory_unlock($1, $2)', [classId, objectId]);
    }
    this.client = client;
    return client;
  }

  /** Reconnects in the background while locks are held, so that other daemons see them again soon. */
  private retake(attempt = 1): void {
    const timer = setTimeout(() => {
      if (this.closed || this.client || this.held.size === 0) return;
      this.session().catch(() => this.retake(attempt + 1));
    }, Math.min(5000, 250 * attempt));
    timer.unref();
  }
}
