/**
 * A private LXD 5.0.2 for the benchmarks: Debian's `lxd` package, one daemon under its own
 * LXD_DIR, a btrfs pool on a loop file in that directory, and no network at all (the default
 * profile carries only the root disk, so no bridge, no dnsmasq, no firewall rules), and
 * `security.idmap.isolated=true` in the default profile.
 *
 * This host has no systemd, so `lxd` runs as a child of the benchmark and is shut down by it.
 * `close()` deletes what the benchmark made (instances, images, the pool), stops the daemon,
 * unmounts what LXD mounted under its directory, detaches the pool's loop device and removes the
 * directory.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with stdin closed (`lxc launch` reads instance YAML from a non-terminal stdin). */
export function run(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: options.env ?? process.env, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (error && code === -1 ? error.message : '')) });
    });
    child.stdin?.end();
  });
}

/** Like run(), but throws with the command's stderr when it fails. */
export async function must(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r.stdout;
}

export function which(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Installs Debian's `lxd` package (LXD 5.0.2 on Debian 12) unless `lxd` is already there; returns its version. */
export async function ensureLxd(log: (line: string) => void = () => undefined): Promise<string> {
  if (!which('lxd') || !which('lxc')) {
    log('installing LXD from Debian (apt-get install -y lxd)');
    await must('apt-get', ['install', '-y', 'lxd'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 15 * 60_000 });
  }
  return (await must('lxd', ['--version'])).trim();
}

function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export interface LxdOptions {
  /** LXD_DIR; created here, and removed by close(). */
  dir: string;
  /** Size of the btrfs pool's loop file, e.g. "16GiB". */
  poolSize: string;
  log?: (line: string) => void;
}

export class Lxd {
  readonly socket: string;
  readonly env: NodeJS.ProcessEnv;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.socket = path.join(dir, 'unix.socket');
    this.env = { PATH: process.env.PATH, LXD_DIR: dir, HOME: path.join(dir, 'client') };
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts lxd on `dir` (which must not hold a running LXD) and gives it a btrfs pool and no network. */
  static async start(options: LxdOptions): Promise<Lxd> {
    const { dir } = options;
    const socket = path.join(dir, 'unix.socket');
    if (existsSync(socket) && (await socketAnswers(socket))) {
      throw new Error(`an LXD already answers on ${socket}: stop it (it was not started by this run) or pick another --lxd-dir`);
    }
    await mkdir(dir, { recursive: true, mode: 0o711 });
    await mkdir(path.join(dir, 'client', '.config', 'lxc'), { recursive: true });
    /* Only the local remote: the client's default config also lists public image servers. */
    await writeFile(path.join(dir, 'client', '.config', 'lxc', 'config.yml'), 'default-remote: local\nremotes:\n  local:\n    addr: unix://\n    public: false\naliases: {}\n');
    const logFile = path.join(dir, 'lxd.log');
    const out = openSync(path.join(dir, 'lxd.out'), 'a');
    const child = spawn('lxd', ['--group', 'root', '--logfile', logFile], { env: { PATH: process.env.PATH, LXD_DIR: dir }, stdio: ['ignore', out, out] });
    closeSync(out);
    const lxd = new Lxd(dir, child, logFile);
    try {
      const ready = await run('lxd', ['waitready', '--timeout', '120'], { env: lxd.env, timeoutMs: 130_000 });
      if (ready.code !== 0 || child.exitCode !== null) {
        throw new Error(`lxd did not become ready: ${ready.stderr.trim()} ${(await readFile(logFile, 'utf8').catch(() => '')).slice(-2000)}`);
      }
      await lxd.lxc('config', 'set', 'images.auto_update_interval', '0');
      await lxd.lxc('storage', 'create', 'default', 'btrfs', `size=${options.poolSize}`);
      await lxd.lxc('profile', 'device', 'add', 'default', 'root', 'disk', 'path=/', 'pool=default');
      /* Each container its own 65536 host ids, as Berth does by default. LXD's default shares one
         range among all its containers, and their systemds then share that host uid's
         fs.inotify.max_user_instances (128): the 11th or so container no longer boots. */
      await lxd.lxc('profile', 'set', 'default', 'security.idmap.isolated', 'true');
    } catch (error) {
      await lxd.close().catch(() => undefined);
      throw error;
    }
    return lxd;
  }

  /** `lxc <args>` against this daemon; throws on failure. */
  lxc(...args: string[]): Promise<string> {
    return must('lxc', args, { env: this.env });
  }

  /** `lxc <args>` against this daemon, with its exit code. */
  tryLxc(...args: string[]): Promise<RunResult> {
    return run('lxc', args, { env: this.env });
  }

  /** The `[lxc monitor]` process of a running instance (LXD's per-container supervisor), or 0. */
  monitorPid(name: string): number {
    const wanted = `[lxc monitor] ${path.join(this.dir, 'containers')} ${name}`;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ').trim();
        if (cmdline === wanted) return Number(entry);
      } catch {
        /* exited meanwhile */
      }
    }
    return 0;
  }

  /** Deletes every instance and image, the pool, stops the daemon and removes its directory. */
  async close(): Promise<string[]> {
    if (this.closed) return [];
    this.closed = true;
    const problems: string[] = [];
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const names = await this.tryLxc('list', '--format', 'csv', '-c', 'n');
      for (const name of names.stdout.split('\n').filter(Boolean)) {
        const r = await this.tryLxc('delete', '--force', name);
        if (r.code !== 0) problems.push(`lxc delete ${name}: ${r.stderr.trim()}`);
      }
      const images = await this.tryLxc('image', 'list', '--format', 'csv', '-c', 'F');
      for (const fp of images.stdout.split('\n').filter(Boolean)) await this.tryLxc('image', 'delete', fp);
      await this.tryLxc('profile', 'device', 'remove', 'default', 'root');
      const pool = await this.tryLxc('storage', 'delete', 'default');
      if (pool.code !== 0) problems.push(`lxc storage delete default: ${pool.stderr.trim()}`);
      const shutdown = await run('lxd', ['shutdown', '--timeout', '60'], { env: this.env, timeoutMs: 70_000 });
      if (shutdown.code !== 0) problems.push(`lxd shutdown: ${shutdown.stderr.trim()}`);
      for (let i = 0; i < 200 && !gone(this.pid); i++) await sleep(50);
      if (!gone(this.pid)) {
        problems.push('lxd did not exit after shutdown; sent SIGKILL');
        this.child.kill('SIGKILL');
        for (let i = 0; i < 100 && !gone(this.pid); i++) await sleep(50);
      }
    }
    problems.push(...(await releaseDir(this.dir)));
    await rm(this.dir, { recursive: true, force: true }).catch((error: Error) => problems.push(`rm ${this.dir}: ${error.message}`));
    return problems;
  }
}

/** Unmounts everything under `dir` (deepest first) and detaches loop devices backed by files in it. */
export async function releaseDir(dir: string): Promise<string[]> {
  const problems: string[] = [];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    const r = await run('umount', [m]);
    if (r.code !== 0) {
      const lazy = await run('umount', ['-l', m]);
      if (lazy.code !== 0) problems.push(`umount ${m}: ${r.stderr.trim()}`);
    }
  }
  const loops = (await run('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'])).stdout.split('\n');
  for (const line of loops) {
    const [dev, file] = line.trim().split(/\s+/);
    if (dev && file?.startsWith(`${dir}/`)) {
      const r = await run('losetup', ['-d', dev]);
      if (r.code !== 0) problems.push(`losetup -d ${dev}: ${r.stderr.trim()}`);
    }
  }
  return problems;
}
