import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { Runtime } from '#runtime';

/** Compiled daemon entry point (tests run from dist/test/...). */
export const BERTHD = fileURLToPath(new URL('../../apps/berthd/src/main.js', import.meta.url));
export const BERTH = fileURLToPath(new URL('../../apps/berth/src/main.js', import.meta.url));

export interface Daemon {
  dir: string;
  socket: string;
  env: NodeJS.ProcessEnv;
  pid: number;
  logFile: string;
  /** supertest bound to this daemon's Unix socket. */
  api(): ReturnType<typeof request>;
  /** SIGTERM, and wait for a clean exit. */
  stop(): Promise<number | null>;
  /** Sends `signal` (SIGKILL by default) and waits for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a new daemon on the same BERTH_DIR (after stop or kill). */
  restart(): Promise<Daemon>;
  /** Stops the daemon if running, stops any Postgres it left behind, removes BERTH_DIR. */
  destroy(): Promise<void>;
}

export interface DaemonOptions {
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the socket (first start initialises Postgres). */
  timeoutMs?: number;
  /** Whether destroy() removes the directory; true when the directory was made here. */
  ownsDir?: boolean;
  /** A command that runs the daemon (given as its last arguments) and execs it, e.g. `unshare ... sh -c '...; exec "$@"' sh`. */
  wrapper?: readonly string[];
}

export const api = (socket: string) => request(`http+unix://${encodeURIComponent(socket)}`);

async function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Stops a Postgres left running on `dataDir` by a daemon killed with SIGKILL. */
export async function stopLeftoverPostgres(dataDir: string): Promise<void> {
  const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(dataDir)) return;
  process.kill(pid, 'SIGQUIT');
  while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Unmounts whatever is mounted under `dir` (the storage pool, deepest first) and detaches the
 * loop devices backing files in it: a daemon stop leaves them for its containers.
 */
export async function releaseStorage(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', [m]);
  const loops = (await run('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'])).split('\n');
  for (const line of loops) {
    const [dev, file] = line.trim().split(/\s+/);
    if (dev && file?.startsWith(`${dir}/`)) await run('losetup', ['-d', dev]);
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

/** Stops, by force, every container a test left running under `dir` (a failed test must not leak one). */
export async function stopContainers(dir: string): Promise<void> {
  const runtime = new Runtime({ berthDir: dir });
  for (const state of await runtime.adoptRunning()) await runtime.stop(state.name, { force: true });
}

/** Starts the real berthd on a temporary BERTH_DIR and waits until it answers GET /1.0. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const ownsDir = opts.ownsDir ?? opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'berth-test-')));
  const socket = join(dir, 'unix.socket');
  const logFile = join(dir, `berthd-${Date.now()}.log`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    BERTH_DIR: dir,
    BERTH_LOG_LEVEL: 'info',
    BERTH_TEST_HOOKS: 'true',
    // Bridge names are host-wide: test daemons create networks with names of their own.
    BERTH_DEFAULT_NETWORK: 'none',
    ...opts.env,
  };
  const [command, ...args] = [...(opts.wrapper ?? []), process.execPath, BERTHD];
  const child = spawn(command!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`berthd exited with ${child.exitCode} during start: ${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    if (existsSync(socket) && (await socketAnswers(socket))) {
      const res = await api(socket).get('/1.0').catch(() => undefined);
      if (res?.status === 200) break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`berthd did not answer on ${socket} in time: ${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const daemon: Daemon = {
    dir,
    socket,
    env,
    pid: child.pid!,
    logFile,
    api: () => api(socket),
    stop: async () => {
      child.kill('SIGTERM');
      return exited(child);
    },
    kill: async (signal = 'SIGKILL') => {
      child.kill(signal);
      await exited(child);
    },
    restart: () => startDaemon({ ...opts, dir, ownsDir }),
    destroy: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
      if (!opts.env?.DATABASE_URL) await stopLeftoverPostgres(join(dir, 'database'));
      await stopContainers(dir);
      await releaseStorage(dir);
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
  return daemon;
}
