/**
 * Runtime benchmark: Berth's runtime against systemd-nspawn and LXC, on the same Debian 12 rootfs.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/runtime.js [--rounds N] [--json FILE]
 *       [--engines berth,nspawn,lxc] [--ready notify,poll] [--privileged] [--rootfs DIR]
 *
 * Needs root, the cached debian-12 rootfs (test/support/rootfs.ts builds it on first use), and the
 * Debian packages `systemd-container` (systemd-nspawn) and `lxc`; an engine whose tools are
 * missing, or that cannot boot here, is reported with the reason and the others still run.
 *
 * Every boot gets a fresh copy of the rootfs (`cp -a --reflink=auto`, then syncfs; not timed).
 * Rounds interleave the engines, rotating their order each round. Two readiness methods, each in
 * its own boot (polling perturbs the boot it measures, so it never runs next to the notify one):
 *
 *  - notify: the time until systemd's READY=1, the signal Berth itself reports as Ready.
 *      berth:  wall time of `runtime.start()` (it resolves at the monitor's Ready, so this includes
 *              the monitor→Node round trip); the monitor's own `readyMs` (init exec → READY=1) too.
 *      nspawn: `--notify-ready=yes`; nspawn forwards the container's READY=1 to its own
 *              NOTIFY_SOCKET, a datagram socket of this benchmark, stamped on receipt.
 *      lxc:    `lxc.environment = NOTIFY_SOCKET=/bench-notify.sock`, a datagram socket of this
 *              benchmark bound inside the rootfs copy; the guest's systemd sends READY=1 to it.
 *  - poll: the time until `systemctl is-system-running` inside prints running or degraded,
 *      polled every POLL_MS through berth's exec, `nsenter -t <leader> -a`, and `lxc-attach`.
 *
 * Stop: berth `runtime.stop(name, {timeout: 30})` (resolves when the monitor has removed
 * everything and exited); nspawn SIGRTMIN+3 to the container's leader until the nspawn process
 * exits; lxc `lxc-stop` (clean shutdown) until it returns.
 * Supervisor memory: VmRSS of Berth's monitor, of the systemd-nspawn process, and of LXC's
 * `[lxc monitor]`, read once the container runs.
 *
 * Berth runs from a copy of native/build/Release taken at the start (a rebuild in the shared
 * checkout mid-run would otherwise swap or remove berth-monitor under the benchmark).
 * The receivers of READY=1 are tiny python3 processes (Node has no AF_UNIX datagram sockets);
 * they stamp each datagram with CLOCK_MONOTONIC, the clock of process.hrtime.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { ContainerNotRunningError, Runtime } from '#runtime';

import { ensureRootfs } from '../test/support/rootfs.js';
import { benchArgs, integerArg, listArg } from './common.js';

type Engine = 'berth' | 'nspawn' | 'lxc';
type ReadyMethod = 'notify' | 'poll';

const ENGINES: Engine[] = ['berth', 'nspawn', 'lxc'];
const IDMAP = { hostId: 1_000_000, count: 65_536 };
const SIGRTMIN_3 = 37; /* glibc's SIGRTMIN is 34 */
const POLL_MS = 20;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_S = 30;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Options {
  rounds: number;
  json: string | null;
  engines: Engine[];
  methods: ReadyMethod[];
  privileged: boolean;
  /** A rootfs tree to copy instead of the cached debian-12 one. */
  rootfs: string | null;
}

interface Boot {
  engine: Engine;
  method: ReadyMethod;
  round: number;
  name: string;
  ok: boolean;
  /** One line: why this boot failed. */
  error?: string;
  /** The engine's own log, when it has one. */
  errorDetail?: string;
  /** Command issued → READY=1 (notify) or → is-system-running running/degraded (poll). */
  readyMs?: number;
  /** Berth only: the monitor's own figure, init exec → READY=1. */
  monitorReadyMs?: number | null;
  /** LXC only: `lxc-start -d` returned. */
  launcherReturnedMs?: number;
  pollAttempts?: number;
  /** `systemd-analyze time` inside: the guest's userspace boot (systemd start → startup finished). */
  guestUserspaceMs?: number;
  systemState?: string;
  failedUnits?: string[];
  supervisorPid?: number;
  rssKiB?: number;
  rssAnonKiB?: number;
  rssFileKiB?: number;
  stopMs?: number;
  /** LXC only: stop issued → `[lxc monitor]` gone. */
  monitorGoneMs?: number;
}

interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
}

/* ------------------------------------------------------------------------------------------- */
/* small helpers                                                                               */

const now = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint, t1: bigint = now()): number => Number(t1 - t0) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const shortId = () => randomBytes(3).toString('hex');

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (error && code === -1 ? error.message : '')) });
    });
  });
}

function which(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function statusKiB(pid: number, field: string): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return line ? Number.parseInt(line.slice(field.length + 1), 10) : undefined;
  } catch {
    return undefined;
  }
}

function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!processGone(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

function memory(boot: Boot, pid: number): void {
  boot.supervisorPid = pid;
  boot.rssKiB = statusKiB(pid, 'VmRSS');
  boot.rssAnonKiB = statusKiB(pid, 'RssAnon');
  boot.rssFileKiB = statusKiB(pid, 'RssFile');
}

function isUp(state: string): boolean {
  return state === 'running' || state === 'degraded';
}

/** Polls `probe` (which prints systemctl is-system-running) until running/degraded. */
async function pollUntilUp(probe: () => Promise<string>, t0: bigint, boot: Boot, died: () => string | null): Promise<void> {
  let attempts = 0;
  for (;;) {
    attempts++;
    const state = (await probe().catch(() => '')).trim();
    if (isUp(state)) {
      boot.readyMs = msSince(t0);
      boot.pollAttempts = attempts;
      return;
    }
    const why = died();
    if (why) throw new Error(why);
    if (msSince(t0) > READY_TIMEOUT_MS) throw new Error(`not running after ${READY_TIMEOUT_MS} ms (last: ${state || 'no answer'})`);
    await sleep(POLL_MS);
  }
}

/* ------------------------------------------------------------------------------------------- */
/* READY=1 receiver                                                                            */

const RECEIVER = `
import json, os, socket, sys, time
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p)
os.chmod(p, 0o777)
sys.stdout.write("BOUND\\n"); sys.stdout.flush()
while True:
    d = s.recv(65536)
    t = time.monotonic_ns()
    sys.stdout.write(json.dumps({"t": str(t), "m": d.decode("utf-8", "replace")}) + "\\n"); sys.stdout.flush()
`;

interface Datagram {
  t: bigint;
  text: string;
}

/** An AF_UNIX datagram socket at `socketPath` (mode 0777) that stamps what it receives. */
class NotifyReceiver {
  readonly messages: Datagram[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socketPath: string,
    private readonly child: ChildProcess,
  ) {}

  static async open(socketPath: string): Promise<NotifyReceiver> {
    const python = which('python3');
    if (!python) throw new Error('python3 is missing (needed to receive sd_notify datagrams)');
    const child = spawn(python, ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const receiver = new NotifyReceiver(socketPath, child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`notify receiver exited (${code}): ${stderr.trim()}`)));
      lines.on('line', (line) => {
        if (line === 'BOUND') return resolve();
        const { t, m } = JSON.parse(line) as { t: string; m: string };
        receiver.messages.push({ t: BigInt(t), text: m });
        for (const wake of receiver.waiters.splice(0)) wake();
      });
    });
    return receiver;
  }

  /** The first datagram that carries `field` (e.g. "READY=1"), waiting for it. */
  async waitFor(field: string, timeoutMs: number, died: () => string | null): Promise<Datagram> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.text.split('\n').some((l) => l === field || l.startsWith(field)));
      if (found) return found;
      const why = died();
      if (why) throw new Error(why);
      if (Date.now() > deadline) throw new Error(`no ${field} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    if (this.child.exitCode === null && this.child.pid) this.child.kill('SIGTERM');
  }
}

/* ------------------------------------------------------------------------------------------- */
/* cgroups (for nspawn's parent cgroup, and the checks that nothing is left)                   */

function cgroupRoots(): { all: string[]; named: string[] } {
  /* `named`: the hierarchies systemd uses (name=systemd and cgroup2), where nspawn nests. */
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const all: string[] = [];
  const named: string[] = [];
  for (const line of mountinfo) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const type = f[sep + 1];
    const mountPoint = f[4]!;
    if (type === 'cgroup2') {
      all.push(mountPoint);
      named.push(mountPoint);
    } else if (type === 'cgroup') {
      all.push(mountPoint);
      if ((f[sep + 3] ?? '').split(',').includes('name=systemd')) named.push(mountPoint);
    }
  }
  return { all: [...new Set(all)], named: [...new Set(named)] };
}

function cgroupLayout(): string {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'unified (cgroup2 only)';
  if (existsSync('/sys/fs/cgroup/unified/cgroup.controllers')) return 'hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified)';
  return 'legacy (cgroup v1)';
}

/** rmdir a cgroup subtree depth-first; retries while its last processes are reaped. */
async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; existsSync(dir) && attempt < 100; attempt++) {
    const walk = (d: string): void => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(path.join(d, entry.name));
      }
      try {
        rmdirSync(d);
      } catch {
        /* busy: retried below */
      }
    };
    try {
      walk(dir);
    } catch {
      /* vanished meanwhile */
    }
    if (existsSync(dir)) await sleep(20);
  }
  if (existsSync(dir)) throw new Error(`cgroup ${dir} could not be removed`);
}

/* ------------------------------------------------------------------------------------------- */
/* the bench                                                                                   */

class Bench {
  private readonly cleanups = new Map<string, () => Promise<void>>();
  private readonly runtime: Runtime;
  private readonly lxcPath: string;
  private readonly createdRunDirs: string[] = [];

  constructor(
    readonly work: string,
    readonly source: string,
    readonly options: Options,
    nativeDir: string,
  ) {
    this.runtime = new Runtime({ berthDir: path.join(work, 'berth'), nativeDir });
    this.lxcPath = path.join(work, 'lxc');
    /* Directories under /run that nspawn and LXC create and leave behind; removed at the end if
       they did not exist before and are empty by then. */
    for (const dir of ['/run/systemd/nspawn', '/run/lxc']) {
      if (!existsSync(dir)) this.createdRunDirs.push(dir);
    }
  }

  async copyRootfs(name: string): Promise<string> {
    const dest = path.join(this.work, 'rootfs', name);
    /* 0711: an unprivileged container's root must be able to traverse to its rootfs (LXC checks). */
    await mkdir(path.dirname(dest), { recursive: true, mode: 0o711 });
    const copy = await run('cp', ['-a', '--reflink=auto', `${this.source}/.`, dest], 10 * 60_000);
    if (copy.code !== 0) throw new Error(`cp -a ${this.source} ${dest}: ${copy.stderr.trim()}`);
    await run('sync', ['-f', dest]);
    return dest;
  }

  async boot(engine: Engine, method: ReadyMethod, round: number): Promise<Boot> {
    const name = `bench-${engine}-${round}-${shortId()}`;
    const boot: Boot = { engine, method, round, name, ok: false };
    let rootfs: string | null = null;
    try {
      rootfs = await this.copyRootfs(name);
      if (engine === 'berth') await this.berth(boot, rootfs);
      else if (engine === 'nspawn') await this.nspawn(boot, rootfs);
      else await this.lxc(boot, rootfs);
      boot.ok = true;
    } catch (error) {
      const message = (error as Error).message.trim();
      boot.error = message.split('\n')[0]!.slice(0, 400);
      if (message.includes('\n')) boot.errorDetail = message.slice(0, 4000);
    } finally {
      const cleanup = this.cleanups.get(name);
      if (cleanup) {
        await cleanup().catch((error: Error) => {
          boot.ok = false;
          boot.error = `${boot.error ? `${boot.error}; ` : ''}cleanup: ${error.message}`;
        });
        this.cleanups.delete(name);
      }
      if (rootfs) await rm(rootfs, { recursive: true, force: true });
    }
    return boot;
  }

  /* --- Berth ------------------------------------------------------------------------------ */

  private async berth(boot: Boot, rootfs: string): Promise<void> {
    const { name } = boot;
    const idmap = this.options.privileged ? null : IDMAP;
    this.cleanups.set(name, async () => {
      if ((await this.runtime.state(name)).state !== 'Stopped') await this.runtime.stop(name, { force: true });
    });
    const t0 = now();
    if (boot.method === 'notify') {
      const state = await this.runtime.start({ name, rootfs, idmap, uuid: randomUUID().replaceAll('-', '') });
      boot.readyMs = msSince(t0);
      boot.monitorReadyMs = state.readyMs;
    } else {
      await this.runtime.start({ name, rootfs, idmap, uuid: randomUUID().replaceAll('-', ''), waitReady: false });
      let gone = false;
      await pollUntilUp(
        async () => {
          try {
            return (await this.runtime.exec(name, ['systemctl', 'is-system-running'])).stdout;
          } catch (error) {
            if (error instanceof ContainerNotRunningError) gone = true;
            throw error;
          }
        },
        t0,
        boot,
        () => (gone ? `${name} stopped before systemd was running` : null),
      );
    }
    const probe = (argv: string[]) => this.runtime.exec(name, argv).then((r) => r.stdout);
    await this.confirm(boot, probe);
    const state = await this.runtime.state(name);
    if (boot.monitorReadyMs === undefined) boot.monitorReadyMs = state.readyMs;
    memory(boot, state.monitorPid);
    const t1 = now();
    await this.runtime.stop(name, { timeout: STOP_TIMEOUT_S });
    boot.stopMs = msSince(t1);
  }

  /* --- systemd-nspawn --------------------------------------------------------------------- */

  private async nspawn(boot: Boot, rootfs: string): Promise<void> {
    const { name } = boot;
    /* With --keep-unit, nspawn nests the container in "<its own cgroup>/payload". Run it from a
       fresh cgroup of its own so that is never "/payload" (shared, and a stale root-owned
       /payload/init.scope makes a userns container fail with EACCES). */
    const cgroupDirs = cgroupRoots().named.map((root) => path.join(root, name));
    let receiver: NotifyReceiver | null = null;
    let child: ChildProcess | null = null;
    let exited: Promise<void> | null = null;
    let leader = 0;
    this.cleanups.set(name, async () => {
      receiver?.close();
      if (child && child.exitCode === null && child.signalCode === null) {
        if (leader && !processGone(leader)) process.kill(leader, 'SIGKILL');
        child.kill('SIGKILL');
        await exited;
      }
      for (const dir of cgroupDirs) await removeCgroup(dir);
    });
    for (const dir of cgroupDirs) await mkdir(dir);
    receiver = await NotifyReceiver.open(path.join(this.work, `${name}.notify`));
    const log = path.join(this.work, `${name}.log`);
    const args = [
      '--quiet',
      '--boot',
      `--directory=${rootfs}`,
      `--machine=${name}`,
      '--register=no',
      '--keep-unit',
      '--notify-ready=yes',
      '--private-network',
      '--console=passive',
      '--link-journal=no',
      `--uuid=${randomUUID()}`,
    ];
    if (!this.options.privileged) {
      args.push(`--private-users=${IDMAP.hostId}:${IDMAP.count}`, '--private-users-ownership=map');
    }

    const logFd = openSync(log, 'w');
    const t0 = now();
    child = spawn(
      '/bin/sh',
      ['-c', 'for f in $BENCH_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; exec systemd-nspawn "$@"', 'sh', ...args],
      {
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: {
          ...process.env,
          NOTIFY_SOCKET: receiver.socketPath,
          BENCH_CGROUP_PROCS: cgroupDirs.map((d) => path.join(d, 'cgroup.procs')).join(' '),
        },
      },
    );
    closeSync(logFd);
    const nspawn = child;
    let exitInfo: string | null = null;
    exited = new Promise<void>((resolve) => {
      nspawn.once('exit', (code, signal) => {
        exitInfo = `systemd-nspawn exited (${signal ?? code})`;
        resolve();
      });
    });
    const died = () => (exitInfo ? `${exitInfo}: ${logSummary(log)}` : null);

    const started = await receiver.waitFor('X_NSPAWN_LEADER_PID=', READY_TIMEOUT_MS, died);
    leader = Number(/X_NSPAWN_LEADER_PID=(\d+)/.exec(started.text)![1]);
    if (boot.method === 'notify') {
      const ready = await receiver.waitFor('READY=1', READY_TIMEOUT_MS, died);
      boot.readyMs = msSince(t0, ready.t);
    } else {
      await pollUntilUp(
        async () => (await run('nsenter', ['-t', String(leader), '-a', 'systemctl', 'is-system-running'], 10_000)).stdout,
        t0,
        boot,
        died,
      );
    }
    await this.confirm(boot, async (argv) => (await run('nsenter', ['-t', String(leader), '-a', ...argv], 10_000)).stdout);
    memory(boot, nspawn.pid!);
    const t1 = now();
    process.kill(leader, SIGRTMIN_3);
    const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_TIMEOUT_S * 1000).then(() => true)]);
    if (timedOut) throw new Error(`systemd-nspawn still running ${STOP_TIMEOUT_S} s after SIGRTMIN+3`);
    boot.stopMs = msSince(t1);
    if (nspawn.exitCode !== 0) throw new Error(`${died()}`);
  }

  /* --- LXC -------------------------------------------------------------------------------- */

  private async lxc(boot: Boot, rootfs: string): Promise<void> {
    const { name } = boot;
    await mkdir(this.lxcPath, { recursive: true, mode: 0o711 });
    const receiver = await NotifyReceiver.open(path.join(rootfs, 'bench-notify.sock'));
    const config = path.join(this.work, `${name}.conf`);
    const log = path.join(this.work, `${name}.log`);
    const lines = [
      'lxc.include = /usr/share/lxc/config/common.conf',
      ...(this.options.privileged ? [] : ['lxc.include = /usr/share/lxc/config/userns.conf']),
      'lxc.arch = linux64',
      `lxc.uts.name = ${name}`,
      `lxc.rootfs.path = dir:${rootfs}`,
      ...(this.options.privileged
        ? []
        : [
            'lxc.rootfs.options = idmap=container',
            `lxc.idmap = u 0 ${IDMAP.hostId} ${IDMAP.count}`,
            `lxc.idmap = g 0 ${IDMAP.hostId} ${IDMAP.count}`,
          ]),
      'lxc.net.0.type = empty',
      'lxc.environment = NOTIFY_SOCKET=/bench-notify.sock',
      `lxc.console.logfile = ${path.join(this.work, `${name}.console.log`)}`,
    ];
    await writeFile(config, `${lines.join('\n')}\n`);
    const lxcArgs = ['-n', name, '-P', this.lxcPath];
    let monitorPid = 0;
    let started = false;
    this.cleanups.set(name, async () => {
      receiver.close();
      if (started) {
        const info = await run('lxc-info', [...lxcArgs, '-s', '-H']);
        if (info.stdout.trim() !== 'STOPPED') await run('lxc-stop', [...lxcArgs, '-k'], 30_000);
        if (monitorPid) await waitGone(monitorPid, 5_000);
      }
      /* LXC removes its cgroups itself; this only catches a failed start. */
      for (const root of cgroupRoots().all) {
        for (const prefix of ['lxc.payload.', 'lxc.monitor.']) {
          const dir = path.join(root, `${prefix}${name}`);
          if (existsSync(dir)) await removeCgroup(dir);
        }
      }
    });
    const died = () => {
      if (monitorPid && processGone(monitorPid)) {
        return `[lxc monitor] exited: ${logSummary(log, / ERROR /)}`;
      }
      return null;
    };

    const t0 = now();
    started = true;
    const launched = await run('lxc-start', [...lxcArgs, '-f', config, '-d', '-o', log, '-l', 'WARN']);
    boot.launcherReturnedMs = msSince(t0);
    if (launched.code !== 0) {
      /* The first ERROR of LXC's log is the cause; the rest is the unwinding. */
      const logLines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
      const cause = logLines.find((l) => / ERROR /.test(l))?.replace(/^.*? ERROR +\S+ - \S+ - /, '') ?? launched.stderr.trim();
      throw new Error(`lxc-start failed (exit ${launched.code}): ${cause}\n${logLines.join('\n')}`);
    }
    monitorPid = findLxcMonitor(this.lxcPath, name);
    if (boot.method === 'notify') {
      const ready = await receiver.waitFor('READY=1', READY_TIMEOUT_MS, died);
      boot.readyMs = msSince(t0, ready.t);
    } else {
      await pollUntilUp(
        async () => (await run('lxc-attach', [...lxcArgs, '--', 'systemctl', 'is-system-running'], 10_000)).stdout,
        t0,
        boot,
        died,
      );
    }
    await this.confirm(boot, async (argv) => (await run('lxc-attach', [...lxcArgs, '--', ...argv], 10_000)).stdout);
    if (!monitorPid) monitorPid = findLxcMonitor(this.lxcPath, name);
    if (!monitorPid) throw new Error('no [lxc monitor] process found');
    memory(boot, monitorPid);
    const t1 = now();
    const stopped = await run('lxc-stop', [...lxcArgs, '-t', String(STOP_TIMEOUT_S)], (STOP_TIMEOUT_S + 30) * 1000);
    boot.stopMs = msSince(t1);
    if (stopped.code !== 0) throw new Error(`lxc-stop failed (${stopped.code}): ${stopped.stderr.trim()}`);
    if (await waitGone(monitorPid, 10_000)) boot.monitorGoneMs = msSince(t1);
  }

  /** After readiness (not timed): the system state and failed units, through the engine's exec. */
  private async confirm(boot: Boot, exec: (argv: string[]) => Promise<string>): Promise<void> {
    boot.systemState = (await exec(['systemctl', 'is-system-running'])).trim();
    if (boot.systemState !== 'running') {
      const failed = await exec(['systemctl', 'list-units', '--failed', '--plain', '--no-legend', '--no-pager']);
      boot.failedUnits = failed
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0]!)
        .filter(Boolean);
    }
    if (!isUp(boot.systemState)) throw new Error(`is-system-running says "${boot.systemState}" after readiness`);
    /* systemd's own figure: "Startup finished in 322ms (userspace)", i.e. the guest's share. */
    const analyzed = await exec(['systemd-analyze', 'time']).catch(() => '');
    const userspace = /Startup finished in (.*?) \(userspace\)/.exec(analyzed)?.[1];
    if (userspace) boot.guestUserspaceMs = parseSystemdSpan(userspace);
  }

  private disposed: Promise<string[]> | null = null;

  /** Everything left over by any engine, then the work directory (once, however often called). */
  dispose(): Promise<string[]> {
    this.disposed ??= this.disposeOnce();
    return this.disposed;
  }

  private async disposeOnce(): Promise<string[]> {
    const problems: string[] = [];
    for (const [name, cleanup] of this.cleanups) {
      await cleanup().catch((error: Error) => problems.push(`${name}: ${error.message}`));
    }
    this.cleanups.clear();
    for (const state of await this.runtime.adoptRunning().catch(() => [])) {
      await this.runtime.stop(state.name, { force: true }).catch((error: Error) => problems.push(`${state.name}: ${error.message}`));
    }
    for (const root of cgroupRoots().all) {
      for (const sub of ['', 'berth']) {
        const dir = path.join(root, sub);
        if (!existsSync(dir)) continue;
        for (const entry of readdirSync(dir)) {
          if (/^(lxc\.(payload|monitor)\.)?bench-(berth|nspawn|lxc)-\d+-[0-9a-f]{6}(-[0-9a-f]+)?$/.test(entry)) {
            await removeCgroup(path.join(dir, entry)).catch((error: Error) => problems.push(error.message));
            problems.push(`leftover cgroup ${path.join(dir, entry)} (removed)`);
          }
        }
      }
    }
    /* LXC keeps lock directories under /run/lxc/lock/<lxcpath>. */
    const lockDir = path.join('/run/lxc/lock', this.lxcPath);
    await rm(lockDir, { recursive: true, force: true });
    for (let dir = path.dirname(lockDir); dir.startsWith('/run/lxc/lock/'); dir = path.dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch {
        break;
      }
    }
    for (const dir of this.createdRunDirs) removeEmptyTree(dir);
    await rm(this.work, { recursive: true, force: true });
    return problems;
  }
}

/** "1.234s", "322ms", "1min 2.5s" → ms. */
function parseSystemdSpan(span: string): number | undefined {
  let total = 0;
  let matched = false;
  for (const [, value, unit] of span.matchAll(/([\d.]+)\s*(min|ms|us|µs|s|h)\b/g)) {
    const factor: Record<string, number> = { h: 3_600_000, min: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001 };
    total += Number(value) * factor[unit!]!;
    matched = true;
  }
  return matched ? total : undefined;
}

/** "<cause line>\n<whole log>": the first line matching `pick`, else the last line. */
function logSummary(log: string, pick?: RegExp): string {
  const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
  const cause = (pick && lines.find((l) => pick.test(l))) || lines[lines.length - 1] || '(empty log)';
  return `${cause}\n${lines.join('\n')}`;
}

function removeEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeEmptyTree(path.join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    /* not empty: someone else's */
  }
}

function findLxcMonitor(lxcPath: string, name: string): number {
  const wanted = `[lxc monitor] ${lxcPath} ${name}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (cmdline === wanted) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* report                                                                                      */

function stats(values: Array<number | undefined | null>): Stats | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { n: xs.length, median, min: xs[0]!, max: xs[xs.length - 1]! };
}

function fmt(s: Stats | null, digits = 0): string {
  if (!s) return '—';
  const f = (v: number) => v.toFixed(digits);
  return s.n > 1 ? `${f(s.median)} [${f(s.min)}–${f(s.max)}]` : f(s.median);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function parseArgs(argv: string[]): Options {
  const args = benchArgs(
    argv,
    'usage: node dist/bench/runtime.js [--rounds N] [--json FILE] [--engines berth,nspawn,lxc] [--ready notify,poll] [--privileged] [--rootfs DIR]',
    ['rounds', 'json', 'engines', 'ready', 'rootfs'],
    ['privileged'],
  );
  const json = args.value('json');
  const rootfs = args.value('rootfs');
  return {
    rounds: integerArg('rounds', args.value('rounds'), 1, 5),
    json: json === undefined ? null : path.resolve(json),
    engines: listArg('engines', args.value('engines'), ENGINES, ENGINES),
    methods: listArg<ReadyMethod>('ready', args.value('ready'), ['notify', 'poll'], ['notify', 'poll']),
    privileged: args.flag('privileged'),
    rootfs: rootfs === undefined ? null : path.resolve(rootfs),
  };
}

async function engineProblem(engine: Engine, nativeDir: string): Promise<string | null> {
  if (engine === 'berth') {
    const monitor = path.join(REPO, 'native/build/Release/berth-monitor');
    return existsSync(path.join(nativeDir, 'berth-monitor')) ? null : `${monitor} is missing (npm run build)`;
  }
  const install = async (pkg: string) => {
    console.error(`installing ${pkg} from Debian (apt-get install -y ${pkg})`);
    process.env.DEBIAN_FRONTEND = 'noninteractive';
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], 15 * 60_000);
  };
  if (engine === 'nspawn' && !which('systemd-nspawn')) await install('systemd-container');
  if (engine === 'lxc' && !which('lxc-start')) await install('lxc');
  if (engine === 'nspawn') {
    if (!which('systemd-nspawn')) return 'systemd-nspawn is missing (apt-get install systemd-container)';
    if (!which('nsenter')) return 'nsenter is missing (util-linux)';
  }
  if (engine === 'lxc') {
    for (const tool of ['lxc-start', 'lxc-stop', 'lxc-attach', 'lxc-info']) {
      if (!which(tool)) return `${tool} is missing (apt-get install lxc)`;
    }
  }
  if (!which('python3')) return 'python3 is missing (receives READY=1 from nspawn and LXC)';
  return null;
}

async function versions(): Promise<Record<string, string>> {
  const first = (r: RunResult) => (r.stdout || r.stderr).trim().split('\n')[0] ?? '';
  const dpkg = async (pkg: string) => (await run('dpkg-query', ['-W', '-f', '${Version}', pkg])).stdout.trim();
  return {
    berth: `${(await run('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])).stdout.trim()} (this checkout)`,
    nspawn: which('systemd-nspawn') ? `${first(await run('systemd-nspawn', ['--version']))} (systemd-container ${await dpkg('systemd-container')})` : 'absent',
    lxc: which('lxc-start') ? `${first(await run('lxc-start', ['--version']))} (lxc ${await dpkg('lxc')})` : 'absent',
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('must run as root');
  const source = options.rootfs ?? (await ensureRootfs());
  if (!existsSync(path.join(source, 'sbin/init')) && !existsSync(path.join(source, 'lib/systemd/systemd'))) {
    throw new Error(`${source} holds no systemd`);
  }
  const recipe = (await readFile(path.join(source, 'etc/berth-recipe'), 'utf8').catch(() => '')).trim();
  const rootfsBytes = Number((await run('du', ['-sb', source])).stdout.split('\t')[0]);
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-runtime-'));
  await chmod(work, 0o711);
  /* A private copy of native/build/Release: the checkout is shared, and a rebuild there while
     this runs (node-gyp removes the binaries first) must not change or break Berth mid-run. */
  const nativeDir = path.join(work, 'native');
  await mkdir(nativeDir, { mode: 0o711 });
  const nativeSource = path.join(REPO, 'native/build/Release');
  for (const file of ['berth-monitor', 'berth_native.node']) {
    if (existsSync(path.join(nativeSource, file))) await copyFile(path.join(nativeSource, file), path.join(nativeDir, file));
  }
  const monitorSha256 = existsSync(path.join(nativeDir, 'berth-monitor'))
    ? createHash('sha256').update(readFileSync(path.join(nativeDir, 'berth-monitor'))).digest('hex')
    : '';
  const bench = new Bench(work, source, options, nativeDir);
  /* A crash (say, an 'error' event nobody listens to) must still stop and remove everything. */
  process.on('uncaughtException', (error) => {
    console.error(`bench/runtime: uncaught ${error.stack ?? error.message}\ncleaning up…`);
    void bench.dispose().finally(() => process.exit(1));
  });

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: cleaning up…`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const unavailable: Partial<Record<Engine, string>> = {};
  for (const engine of options.engines) {
    const problem = await engineProblem(engine, nativeDir);
    if (problem) unavailable[engine] = problem;
  }
  const loadBefore = os.loadavg();
  const startedAt = new Date();
  const boots: Boot[] = [];
  const mode = options.privileged
    ? 'privileged (no user namespace)'
    : `unprivileged: root = host uid/gid ${IDMAP.hostId}, ${IDMAP.count} ids, rootfs by idmapped mount`;
  console.log(`rootfs ${source} (${(rootfsBytes / 2 ** 20).toFixed(0)} MiB), ${options.rounds} rounds, ${mode}`);
  let cleanupProblems: string[] = [];
  try {
    for (let round = 1; round <= options.rounds && !interrupted; round++) {
      const live = options.engines.filter((e) => !unavailable[e]);
      const order = live.map((_, i) => live[(i + round - 1) % live.length]!);
      for (const engine of order) {
        for (const method of options.methods) {
          if (interrupted || unavailable[engine]) continue;
          const boot = await bench.boot(engine, method, round);
          boots.push(boot);
          const line = boot.ok
            ? `ready ${boot.readyMs!.toFixed(0)} ms (${boot.systemState}), stop ${boot.stopMs!.toFixed(0)} ms, supervisor RSS ${boot.rssKiB} KiB`
            : `FAILED: ${boot.error}`;
          console.log(`round ${round} ${engine.padEnd(6)} ${method.padEnd(6)} ${line}`);
          /* An engine that fails its first two boots cannot boot here: record why, skip it. */
          const mine = boots.filter((b) => b.engine === engine);
          if (mine.length >= 2 && mine.every((b) => !b.ok)) unavailable[engine] = `cannot boot here: ${mine[0]!.error}`;
        }
      }
    }
  } finally {
    cleanupProblems = await bench.dispose();
  }

  /* --- summary --- */
  const summary: Record<string, Record<string, Stats | null | string | string[]>> = {};
  for (const engine of options.engines) {
    const ok = boots.filter((b) => b.engine === engine && b.ok);
    const notify = ok.filter((b) => b.method === 'notify');
    const poll = ok.filter((b) => b.method === 'poll');
    summary[engine] = {
      readyNotifyMs: stats(notify.map((b) => b.readyMs)),
      readyPollMs: stats(poll.map((b) => b.readyMs)),
      stopMs: stats(ok.map((b) => b.stopMs)),
      rssKiB: stats(ok.map((b) => b.rssKiB)),
      rssAnonKiB: stats(ok.map((b) => b.rssAnonKiB)),
      guestUserspaceMs: stats(ok.map((b) => b.guestUserspaceMs)),
      /* What the engine itself adds: READY=1 minus the guest's own userspace boot, per boot. */
      overheadMs: stats(notify.map((b) => (b.readyMs !== undefined && b.guestUserspaceMs !== undefined ? b.readyMs - b.guestUserspaceMs : undefined))),
      ...(engine === 'berth' ? { monitorReadyMs: stats(ok.map((b) => b.monitorReadyMs)) } : {}),
      ...(engine === 'lxc' ? { lxcStartReturnedMs: stats(ok.map((b) => b.launcherReturnedMs)), stopToMonitorGoneMs: stats(ok.map((b) => b.monitorGoneMs)) } : {}),
      failures: boots.filter((b) => b.engine === engine && !b.ok).map((b) => `round ${b.round} ${b.method}: ${b.error}`),
      systemStates: [...new Set(ok.map((b) => `${b.systemState}${b.failedUnits?.length ? ` (failed: ${b.failedUnits.join(' ')})` : ''}`))],
    };
    if (unavailable[engine]) summary[engine]!.unavailable = unavailable[engine]!;
  }

  const labels: Record<Engine, string> = { berth: 'Berth', nspawn: 'systemd-nspawn', lxc: 'LXC' };
  const readiness: Record<Engine, { notify: string; poll: string; stop: string; supervisor: string }> = {
    berth: {
      notify: 'runtime.start() resolved (monitor got READY=1)',
      poll: 'runtime.exec systemctl is-system-running',
      stop: 'runtime.stop({timeout: 30}) resolved (monitor gone)',
      supervisor: 'berth-monitor',
    },
    nspawn: {
      notify: '--notify-ready=yes, READY=1 forwarded to our NOTIFY_SOCKET',
      poll: 'nsenter -t <leader> -a systemctl is-system-running',
      stop: 'SIGRTMIN+3 to leader → systemd-nspawn exited',
      supervisor: 'systemd-nspawn process',
    },
    lxc: {
      notify: 'READY=1 from guest systemd (lxc.environment NOTIFY_SOCKET)',
      poll: 'lxc-attach -- systemctl is-system-running',
      stop: 'lxc-stop returned',
      supervisor: '[lxc monitor]',
    },
  };
  const s = (e: Engine, k: string) => summary[e]?.[k] as Stats | null | undefined;
  const rows = [['engine', 'start→READY=1 ms', 'start→running (poll) ms', 'stop ms', 'supervisor VmRSS KiB', 'guest userspace ms', 'READY=1 − guest ms', 'n ok/boots']];
  for (const engine of options.engines) {
    const all = boots.filter((b) => b.engine === engine);
    rows.push([
      labels[engine],
      fmt(s(engine, 'readyNotifyMs') ?? null),
      fmt(s(engine, 'readyPollMs') ?? null),
      fmt(s(engine, 'stopMs') ?? null),
      fmt(s(engine, 'rssKiB') ?? null),
      fmt(s(engine, 'guestUserspaceMs') ?? null),
      fmt(s(engine, 'overheadMs') ?? null),
      `${all.filter((b) => b.ok).length}/${all.length}`,
    ]);
  }
  const ratios: Record<string, Record<string, number | null>> = {};
  const ratioRows = [['Berth / other (medians)', 'start→READY=1', 'start→running (poll)', 'stop', 'supervisor VmRSS', 'READY=1 − guest']];
  for (const other of options.engines.filter((e) => e !== 'berth')) {
    const ratio = (k: string) => {
      const a = s('berth', k);
      const b = s(other, k);
      return a && b && b.median > 0 ? a.median / b.median : null;
    };
    ratios[other] = {
      readyNotify: ratio('readyNotifyMs'),
      readyPoll: ratio('readyPollMs'),
      stop: ratio('stopMs'),
      rss: ratio('rssKiB'),
      overhead: ratio('overheadMs'),
    };
    const r = ratios[other]!;
    const f = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}×`);
    ratioRows.push([`Berth / ${labels[other]}`, f(r.readyNotify ?? null), f(r.readyPoll ?? null), f(r.stop ?? null), f(r.rss ?? null), f(r.overhead ?? null)]);
  }

  console.log('');
  console.log(`Medians [min–max] over ${options.rounds} rounds; host ${os.release()}, ${os.availableParallelism()} cpus, ${cgroupLayout()}`);
  console.log(`Privileges: ${mode} (same for all three engines).`);
  console.log(table(rows));
  console.log('');
  console.log(table(ratioRows));
  console.log('');
  console.log('How each figure is taken:');
  for (const engine of options.engines) {
    const r = readiness[engine];
    console.log(`  ${labels[engine]}: READY=1: ${r.notify}; poll: ${r.poll} every ${POLL_MS} ms; stop: ${r.stop}; memory: ${r.supervisor}`);
  }
  console.log("  guest userspace: `systemd-analyze time` inside (systemd's start → startup finished, i.e. READY=1), all boots.");
  console.log('  READY=1 − guest: per READY=1 boot, start→READY=1 minus that guest figure: what the engine adds before and after the guest boots (less sensitive to host load than the totals).');
  const berthMonitorReady = s('berth', 'monitorReadyMs');
  if (berthMonitorReady) console.log(`  Berth monitor's own readyMs (init exec → READY=1): ${fmt(berthMonitorReady)}`);
  const lxcReturned = s('lxc', 'lxcStartReturnedMs');
  if (lxcReturned) console.log(`  lxc-start -d returned after ${fmt(lxcReturned, 1)} ms; lxc-stop → [lxc monitor] gone ${fmt(s('lxc', 'stopToMonitorGoneMs') ?? null)} ms`);
  for (const engine of options.engines) {
    const states = summary[engine]!.systemStates as string[];
    if (states.length) console.log(`  ${labels[engine]} guest state after readiness: ${states.join('; ')}`);
    if (summary[engine]!.unavailable) console.log(`  ${labels[engine]} UNAVAILABLE: ${summary[engine]!.unavailable as string}`);
    for (const failure of summary[engine]!.failures as string[]) console.log(`  ${labels[engine]} failure: ${failure}`);
  }
  const loadAfter = os.loadavg();
  console.log(`  load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  for (const problem of cleanupProblems) console.log(`  cleanup: ${problem}`);

  if (options.json) {
    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      host: {
        kernel: os.release(),
        cpus: os.availableParallelism(),
        os: (await readFile('/etc/debian_version', 'utf8').catch(() => '')).trim(),
        cgroups: cgroupLayout(),
        pid1: (await readFile('/proc/1/comm', 'utf8').catch(() => '')).trim(),
        loadBefore,
        loadAfter,
      },
      versions: { ...(await versions()), berthMonitorSha256: monitorSha256 },
      rootfs: { path: source, bytes: rootfsBytes, recipe },
      options,
      privileges: mode,
      methods: readiness,
      pollIntervalMs: POLL_MS,
      summary,
      ratiosBerthOverOther: ratios,
      boots,
      cleanupProblems,
    };
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`JSON written to ${options.json}`);
  }
  if (interrupted) process.exitCode = 130;
}

main().catch((error: Error) => {
  console.error(`bench/runtime: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
