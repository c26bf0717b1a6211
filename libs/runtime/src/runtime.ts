import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, watch } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';

import {
  CgroupLimitError,
  ContainerAlreadyRunningError,
  ContainerNotRunningError,
  InvalidContainerSpecError,
  NativeCallError,
  isNativeFailure,
  nativeError,
  type NativeFailure,
} from './errors.js';
import { deviceArgument, type DeviceMount } from './devices.js';
import { requestMonitor } from './monitor-client.js';
import { defaultNativeDir, loadNative, monitorBinary } from './native.js';
import type { PeerCredentials } from './berth-native.js';

/** What the monitor reports about a container: Running from its init's exec to the stop. */
export type ContainerStatus = 'Running' | 'Stopping' | 'Stopped';

/** The program the container's PID 1 runs: systemd, or another init (busybox, sysvinit, OpenRC...). */
export type InitKind = 'systemd' | 'other';

/**
 * How the rootfs carries the container's ids: `idmapped`, an idmapped mount of the tree as it is
 * on disk; `shifted`, the filesystem refused idmapped mounts (an overlayfs mount itself, some FUSE
 * and network filesystems), so the ownership of the tree was shifted on disk by the id map's
 * base (once: a marker `.berth-shifted.<rootfs name>` beside the rootfs records it, and a start
 * with another map shifts it back first); `none`, a privileged container.
 */
export type IdmapMode = 'idmapped' | 'shifted' | 'none';

export interface IdMap {
  /** Host uid and gid of the container's root. */
  hostId: number;
  /** Number of ids mapped (at least 65536). */
  count: number;
}

/**
 * One write into a file of the container's cgroup: on v1 (and hybrid) hosts in the hierarchy of
 * `controller`, on pure v2 in the one tree. `file` is one of that controller's files
 * (`<controller>.<name>`), relative to the container's cgroup.
 */
export interface CgroupLimit {
  controller: 'memory' | 'cpu' | 'cpuset' | 'pids' | 'blkio' | 'io';
  file: string;
  value: string;
}

const LIMIT_CONTROLLERS: ReadonlySet<string> = new Set<CgroupLimit['controller']>(['memory', 'cpu', 'cpuset', 'pids', 'blkio', 'io']);
const MAX_LIMITS = 32;

export interface ContainerSpec {
  /** Instance name: also the hostname unless `hostname` is given. */
  name: string;
  /** Absolute path of the root filesystem (a volume owned by host root). */
  rootfs: string;
  /** The unprivileged id range; `null` runs a privileged container (no user namespace). */
  idmap: IdMap | null;
  /** Stable `container_uuid` (seeds /etc/machine-id); pass the same one on every start. */
  uuid?: string;
  hostname?: string;
  /**
   * Place the container in the cgroup2 hierarchy only, as on a pure v2 host. On a hybrid host
   * its v1 controllers (and the limits written there) then do not apply. Default false.
   */
  cgroup2Only?: boolean;
  /**
   * Cgroup writes made, in this order, into the container's fresh cgroup before its init runs
   * (on v1, cpuset files go to init's child cgroup first, since a parent's set cannot be
   * narrower than a child's). One the kernel refuses fails the start with a CgroupLimitError
   * and leaves nothing behind. After a reboot from inside, the new cgroup gets the values these
   * files have in the old one at that moment (a file that cannot be read: the value given
   * here), whether berthd runs or not.
   */
  limits?: CgroupLimit[];
  /**
   * The mount point of a running lxcfs (e.g. /var/lib/lxcfs): its proc files (cpuinfo,
   * diskstats, loadavg, meminfo, stat, swaps, uptime) and sys/devices/system/cpu/online are
   * bound over the container's, so that free, uptime and top inside show the container's
   * limits. A file lxcfs does not provide is left alone; a bind the kernel refuses fails the start.
   */
  lxcfs?: string;
  /**
   * A host directory (the guest API's socket is in it) bound read-only at /dev/lxd before init
   * runs; a new socket made in it later is reached at the same path inside.
   */
  devlxd?: string;
  /**
   * Disks with a host source and unix-char/unix-block devices, bound before init runs (see
   * DeviceMount). A missing source of a required one fails the start naming the device.
   */
  devices?: DeviceMount[];
  /**
   * The signal a stop sends to init (1-64, not SIGKILL or SIGSTOP). Default: the init's own,
   * SIGRTMIN+3 when PID 1 runs systemd, SIGPWR otherwise (what busybox and sysvinit halt on).
   */
  haltSignal?: number;
  /** Resolve only once systemd reported READY=1 (default true): only for a systemd guest. */
  waitReady?: boolean;
  /** How long to wait for READY=1 before failing (default 60 s). */
  readyTimeoutMs?: number;
}

export interface ContainerState {
  name: string;
  state: ContainerStatus;
  /** Host pid of the container's init, 0 when stopped. */
  pid: number;
  /** What its init is, from the program PID 1 runs (/proc/<pid>/exe). */
  init: InitKind;
  /** The signal a stop sends to init (ContainerSpec.haltSignal or the init's own); 0 when stopped. */
  haltSignal: number;
  monitorPid: number;
  /** The container's cgroup, relative to each hierarchy's root. */
  cgroup: string;
  cgroupLayout: 'unified' | 'hybrid';
  /**
   * The monitor's own cgroup (`berth/monitor/<name>-<hex>`), beside the container's: its
   * resource use is accounted apart from the daemon's and the container's. Empty when stopped.
   */
  monitorCgroup: string;
  idmapMode: IdmapMode;
  /** Milliseconds from init's start to systemd's READY=1, null until then (and for other inits). */
  readyMs: number | null;
  startedAt: Date;
  /** The last STATUS= line of systemd. */
  status: string;
  reboots: number;
  /** How the previous init ended: `reboot`, `poweroff`, `exited:N`, `killed:SIG`, or empty. */
  lastExit: string;
  /** Whether lxcfs' files are bound over the container's /proc and /sys ones. */
  lxcfs: boolean;
}

export interface StopOptions {
  /** Seconds init gets to halt before the cgroup is killed (default 30). */
  timeout?: number;
  /** Kill at once instead of asking init to halt. */
  force?: boolean;
}

export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Bytes written to the command's stdin (then closed). */
  input?: string | Buffer;
  /** Run on a terminal from the container's devpts, of this size; stdout carries its output. */
  pty?: { rows: number; cols: number };
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecStreamOptions {
  env?: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /**
   * Run on a terminal from the container's devpts, of this initial size (`resize()` changes
   * it). Everything the command writes then comes on `stdout`; `stderr` ends at once.
   */
  pty?: { rows: number; cols: number };
}

/** How a streamed command ended. */
export interface ExecExit {
  /** Its exit status; 128 + the signal's number when a signal killed it (as a shell reports). */
  exitCode: number;
  /** The number of the signal that killed it, if one did. */
  signal?: number;
}

/**
 * A command running inside a container, its stdio streamed both ways as data comes.
 * The helper relays between these streams and the command's own pipes (or terminal), so they
 * end when the command has exited and its output was drained, even if a background process
 * inside still holds the command's descriptors.
 */
export interface ExecStream {
  /**
   * Written through to the command as it comes. Without a pty, `end()` closes the command's
   * stdin (its EOF); on a terminal it only ends the input (write "\x04", the VEOF character,
   * for the terminal's EOF). Writes after the command exited are discarded.
   */
  readonly stdin: Writable;
  /** The command's stdout (with a pty: the terminal's output, stderr included). */
  readonly stdout: Readable;
  /** The command's stderr; with a pty an already ended stream. */
  readonly stderr: Readable;
  /**
   * Pty only: sets the terminal's size (TIOCSWINSZ on its master), which the kernel signals
   * to the terminal's foreground process group as SIGWINCH. No-op once the command exited.
   */
  resize(rows: number, cols: number): void;
  /**
   * Sends signal `signo` (1-64) to the command, or to its process group when it has a pty
   * (it leads its own session there). No-op once the command exited.
   */
  signal(signo: number): void;
  /**
   * Resolves with the command's status once the helper has exited (the streams may still
   * hold unread output: read them to their 'end'). Rejects like `exec()` when the command
   * could not be started: ContainerNotRunningError, or a NativeCallError (e.g. `execve`,
   * ENOENT for a missing command).
   */
  readonly exited: Promise<ExecExit>;
}

/** Where the runtime reports what a caller should know but that is not an error (pino fits). */
export interface RuntimeLogger {
  warn(details: object, message: string): void;
}

export interface RuntimeOptions {
  /** The daemon's state directory; monitors live under `<berthDir>/containers/<name>/`. */
  berthDir: string;
  /** Where berth-monitor and berth_native.node are (default: native/build/Release). */
  nativeDir?: string;
  /** Warnings, e.g. a rootfs whose ownership had to be shifted (default: process warnings). */
  logger?: RuntimeLogger;
}

const processWarnings: RuntimeLogger = {
  warn: (details, message) => process.emitWarning(`${message} ${JSON.stringify(details)}`, { code: 'BERTH_RUNTIME' }),
};

const NAME = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

interface RawState extends Omit<ContainerState, 'startedAt' | 'lxcfs' | 'state' | 'init' | 'haltSignal'> {
  ok: true;
  /** `Ready` from monitors started before any init was supported (they said so at READY=1). */
  state: ContainerStatus | 'Ready';
  startedAt: number;
  /** Absent from monitors started before lxcfs support. */
  lxcfs?: boolean;
  /** Absent from monitors started before any init was supported: they ran systemd. */
  init?: InitKind;
  haltSignal?: number;
}

/** SIGRTMIN+3 as Linux numbers it (glibc's SIGRTMIN is 34). */
const SYSTEMD_HALT = 37;

function toState(raw: RawState): ContainerState {
  const { ok: _ok, startedAt, lxcfs, state, init, haltSignal, ...rest } = raw;
  return {
    ...rest,
    state: state === 'Ready' ? 'Running' : state,
    init: init ?? 'systemd',
    haltSignal: haltSignal ?? (state === 'Stopped' ? 0 : SYSTEMD_HALT),
    startedAt: new Date(startedAt),
    lxcfs: lxcfs ?? false,
  };
}

function stopped(name: string): ContainerState {
  return {
    name,
    state: 'Stopped',
    pid: 0,
    init: 'other',
    haltSignal: 0,
    monitorPid: 0,
    cgroup: '',
    cgroupLayout: 'hybrid',
    monitorCgroup: '',
    idmapMode: 'none',
    readyMs: null,
    startedAt: new Date(0),
    status: '',
    reboots: 0,
    lastExit: '',
    lxcfs: false,
  };
}

/** `controller:file=value`, as berth-monitor's --limit takes it; throws InvalidContainerSpecError. */
function limitArgument(limit: CgroupLimit, index: number): string {
  const field = `limits[${index}]`;
  if (!LIMIT_CONTROLLERS.has(limit.controller)) throw new InvalidContainerSpecError(field, `unknown controller ${String(limit.controller)}`);
  const name = limit.file.startsWith(`${limit.controller}.`) ? limit.file.slice(limit.controller.length + 1) : '';
  if (!/^[a-z0-9_.]{1,62}$/.test(name) || name.includes('..') || limit.file.length > 63) {
    throw new InvalidContainerSpecError(field, `${limit.file} is not a file of the ${limit.controller} controller`);
  }
  if (typeof limit.value !== 'string' || !/^[\x20-\x7e]{1,255}$/.test(limit.value)) {
    throw new InvalidContainerSpecError(field, 'the value must be 1-255 printable ASCII characters');
  }
  return `${limit.controller}:${limit.file}=${limit.value}`;
}

function readAll(stream: Readable | null): Promise<string> {
  return new Promise((resolve) => {
    if (!stream) return resolve('');
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function checkWindow(rows: number, cols: number): void {
  if (![rows, cols].every((n) => Number.isInteger(n) && n > 0 && n <= 10_000)) {
    throw new InvalidContainerSpecError('pty', 'rows and cols must be integers in 1..10000');
  }
}

/** The typed error of a helper's failure report: a container that is not running, or the call. */
function execError(name: string, failure: NativeFailure): Error {
  if (failure.syscall === 'connect' && ['ENOENT', 'ECONNREFUSED'].includes(failure.code)) {
    return new ContainerNotRunningError(name);
  }
  return nativeError(failure);
}

function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/**
 * The facade over native/: containers are started, supervised and stopped by one detached
 * berth-monitor each, so they outlive this process. No namespace work happens in Node.
 */
export class Runtime {
  readonly berthDir: string;
  private readonly nativeDir: string;
  private readonly log: RuntimeLogger;

  constructor(options: RuntimeOptions) {
    if (!path.isAbsolute(options.berthDir)) {
      throw new InvalidContainerSpecError('berthDir', 'must be an absolute path');
    }
    this.berthDir = options.berthDir;
    this.nativeDir = options.nativeDir ?? defaultNativeDir;
    this.log = options.logger ?? processWarnings;
  }

  /**
   * Starts a container and, unless `waitReady` is false, waits for systemd's READY=1. Where the
   * rootfs' filesystem cannot be idmapped, its ownership is shifted on disk first (which takes a
   * walk of the whole tree, and on overlayfs a copy-up of every file): the state then says
   * `idmapMode: 'shifted'` and a warning is logged.
   */
  async start(spec: ContainerSpec): Promise<ContainerState> {
    this.checkName(spec.name);
    if (spec.hostname !== undefined && !NAME.test(spec.hostname)) {
      throw new InvalidContainerSpecError('hostname', 'must be a hostname label');
    }
    if (!path.isAbsolute(spec.rootfs)) {
      throw new InvalidContainerSpecError('rootfs', 'must be an absolute path');
    }
    if (spec.idmap && (spec.idmap.hostId <= 0 || spec.idmap.count < 65536 || spec.idmap.hostId + spec.idmap.count > 2 ** 32 - 1)) {
      throw new InvalidContainerSpecError('idmap', 'needs 65536 ids or more, above 0');
    }
    const limits = (spec.limits ?? []).map(limitArgument);
    if (limits.length > MAX_LIMITS) throw new InvalidContainerSpecError('limits', `at most ${MAX_LIMITS} writes`);
    if ((await this.state(spec.name)).state !== 'Stopped') {
      throw new ContainerAlreadyRunningError(spec.name);
    }
    const args = [
      'start',
      '--berth-dir', this.berthDir,
      '--name', spec.name,
      '--rootfs', spec.rootfs,
      '--uuid', spec.uuid ?? randomUUID(),
      '--id-base', String(spec.idmap?.hostId ?? 0),
      '--id-count', String(spec.idmap?.count ?? 0),
      '--report-fd', '3',
    ];
    if (spec.hostname) args.push('--hostname', spec.hostname);
    if (spec.cgroup2Only) args.push('--cgroup2-only');
    if (spec.lxcfs !== undefined) {
      if (!path.isAbsolute(spec.lxcfs)) throw new InvalidContainerSpecError('lxcfs', 'must be an absolute path');
      args.push('--lxcfs', spec.lxcfs);
    }
    if (spec.devlxd !== undefined) {
      if (!path.isAbsolute(spec.devlxd)) throw new InvalidContainerSpecError('devlxd', 'must be an absolute path');
      args.push('--devlxd', spec.devlxd);
    }
    if (spec.haltSignal !== undefined) {
      if (!Number.isInteger(spec.haltSignal) || spec.haltSignal < 1 || spec.haltSignal > 64 || spec.haltSignal === 9 || spec.haltSignal === 19) {
        throw new InvalidContainerSpecError('haltSignal', 'must be a signal number in 1..64 other than SIGKILL and SIGSTOP');
      }
      args.push('--halt-signal', String(spec.haltSignal));
    }
    for (const limit of limits) args.push('--limit', limit);
    for (const device of spec.devices ?? []) args.push('--device', deviceArgument(device));
    const monitor = spawn(monitorBinary(this.nativeDir), args, {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    // A monitor that cannot even be executed (missing or not executable) is a typed error, not a crash.
    let spawnError: NodeJS.ErrnoException | undefined;
    monitor.once('error', (error: NodeJS.ErrnoException) => (spawnError = error));
    const reported = await readAll(monitor.stdio[3] as Readable);
    monitor.unref();
    if (spawnError) {
      throw new NativeCallError(`cannot run berth-monitor: ${spawnError.message}`, 'execve', Math.abs(spawnError.errno ?? 2), spawnError.code ?? 'ENOENT');
    }
    const report: unknown = reported ? JSON.parse(reported.split('\n')[0]!) : undefined;
    if (isNativeFailure(report)) {
      if (report.syscall === 'flock' && report.code === 'EAGAIN') {
        throw new ContainerAlreadyRunningError(spec.name);
      }
      if (report.limit) {
        const { controller, file, value } = report.limit;
        throw new CgroupLimitError(spec.name, controller, file, value, report.errno, report.code);
      }
      throw nativeError(report);
    }
    if (!report || (report as { ok?: unknown }).ok !== true) {
      throw new NativeCallError(`berth-monitor ended without a report for ${spec.name}`, 'waitid', 10, 'ECHILD');
    }
    const started = toState(report as RawState);
    if (started.idmapMode === 'shifted') {
      this.log.warn(
        { container: spec.name, rootfs: spec.rootfs, hostId: spec.idmap?.hostId, count: spec.idmap?.count },
        'the rootfs filesystem cannot be idmapped: its ownership is shifted on disk instead',
      );
    }
    if (spec.waitReady === false || started.init !== 'systemd') return started;
    return this.waitReady(spec.name, spec.readyTimeoutMs ?? 60_000);
  }

  /**
   * Binds one more device into the running container (its monitor makes the node, allows it in
   * the device cgroup and attaches it from inside the container's namespaces). On failure
   * nothing of it is left. It stays across a reboot from inside.
   */
  async addDevice(name: string, device: DeviceMount): Promise<void> {
    await this.deviceRequest(name, { op: 'device-add', ...JSON.parse(deviceArgument(device)) });
  }

  /** Detaches a device bound at start or by addDevice, and denies its node in the cgroup again. */
  async removeDevice(name: string, device: string): Promise<void> {
    await this.deviceRequest(name, { op: 'device-remove', name: device });
  }

  private async deviceRequest(name: string, request: object): Promise<void> {
    this.checkName(name);
    let answer: unknown;
    try {
      answer = await requestMonitor(this.socketPath(name), request, 30_000);
    } catch (error) {
      if (error instanceof NativeCallError && ['ENOENT', 'ECONNREFUSED'].includes(error.errnoCode)) throw new ContainerNotRunningError(name);
      throw error;
    }
    if (isNativeFailure(answer)) throw nativeError(answer);
  }

  /** Resolves once systemd in the container reported READY=1; fails if it stops first (another init never does). */
  async waitReady(name: string, timeoutMs = 60_000): Promise<ContainerState> {
    const answer = await requestMonitor(this.socketPath(name), { op: 'wait' }, timeoutMs);
    if (isNativeFailure(answer)) throw nativeError(answer);
    return toState(answer as RawState);
  }

  /** The container's state; `Stopped` when no monitor answers. */
  async state(name: string): Promise<ContainerState> {
    this.checkName(name);
    try {
      const answer = await requestMonitor(this.socketPath(name), { op: 'state' });
      if (isNativeFailure(answer)) throw nativeError(answer);
      return toState(answer as RawState);
    } catch (error) {
      if (error instanceof NativeCallError && ['ENOENT', 'ECONNREFUSED', 'ECONNRESET'].includes(error.errnoCode)) {
        return stopped(name);
      }
      throw error;
    }
  }

  /**
   * Stops the container: its init's halt signal (see ContainerState.haltSignal), once init takes
   * it, then a kill of its cgroup after `timeout` seconds (or at once with `force`). Resolves,
   * with `lastExit` saying how init ended, once the monitor removed everything and exited.
   */
  async stop(name: string, options: StopOptions = {}): Promise<ContainerState> {
    this.checkName(name);
    const timeout = options.timeout ?? 30;
    let answer: unknown;
    try {
      /* The monitor answers once the container is gone: at the deadline it kills the cgroup. */
      const answerWithin = ((options.force ? 0 : timeout) + 30) * 1000;
      answer = await requestMonitor(this.socketPath(name), { op: 'stop', timeout, force: options.force ?? false }, answerWithin);
    } catch (error) {
      if (error instanceof NativeCallError && ['ENOENT', 'ECONNREFUSED'].includes(error.errnoCode)) {
        throw new ContainerNotRunningError(name);
      }
      throw error;
    }
    if (isNativeFailure(answer)) throw nativeError(answer);
    const final = toState(answer as RawState);
    for (let i = 0; i < 200 && !isGone(final.monitorPid); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return final;
  }

  /** Stops the container if it runs, then starts it again from `spec` (a fresh cgroup and init). */
  async restart(spec: ContainerSpec, options: StopOptions = {}): Promise<ContainerState> {
    if ((await this.state(spec.name)).state !== 'Stopped') await this.stop(spec.name, options);
    return this.start(spec);
  }

  /** Sends a signal to the container's init through the monitor (which holds its pidfd). */
  async kill(name: string, signal: number): Promise<void> {
    this.checkName(name);
    const answer = await requestMonitor(this.socketPath(name), { op: 'kill', signal });
    if (isNativeFailure(answer)) throw nativeError(answer);
  }

  /**
   * Runs argv inside the container (all of its init's namespaces and cgroups) through a forked
   * helper, and returns its exit code and output. A command that cannot be started is a
   * NativeCallError (`execve`, ENOENT).
   */
  async exec(name: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const args = this.execArgs(name, argv, options, []);
    const helper = spawn(monitorBinary(this.nativeDir), args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number>((resolve, reject) => {
      helper.on('error', reject);
      helper.on('close', (code, signal) => resolve(code ?? 128 + (signal ? 9 : 0)));
    });
    helper.stdin.on('error', () => undefined);
    helper.stdin.end(options.input ?? '');
    const [stdout, stderr, report, exitCode] = await Promise.all([
      readAll(helper.stdout),
      readAll(helper.stderr),
      readAll(helper.stdio[3] as Readable),
      exited,
    ]);
    const failure: unknown = report ? JSON.parse(report.split('\n')[0]!) : undefined;
    if (isNativeFailure(failure)) throw execError(name, failure);
    return { exitCode, stdout, stderr };
  }

  /**
   * Runs argv inside the container like `exec()`, but streams: output arrives as the command
   * writes it, stdin is written through, and the command can be signalled and (on a pty)
   * resized while it runs. See ExecStream. Invalid options throw at once; a failure to start
   * the command rejects `exited`.
   *
   * The helper is `berth-monitor exec … --control-fd 4`: fds 0-2 carry stdio, fd 3 the report
   * (a failure, or the final `{"ok":true,"exitCode":N,"signal":S}`), fd 4 control requests,
   * one JSON object per line: `{"signal":N}`, `{"resize":[rows,cols]}`.
   */
  execStream(name: string, argv: string[], options: ExecStreamOptions = {}): ExecStream {
    const args = this.execArgs(name, argv, options, ['--control-fd', '4']);
    const pty = options.pty !== undefined;
    const helper = spawn(monitorBinary(this.nativeDir), args, {
      stdio: ['pipe', 'pipe', pty ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const report = helper.stdio[3] as Readable;
    const control = helper.stdio[4] as net.Socket;
    const stderr = pty ? new PassThrough() : (helper.stdio[2] as Readable);
    if (pty) (stderr as PassThrough).end();
    const stdin = helper.stdio[0] as Writable;
    stdin.on('error', () => undefined); /* EPIPE once the command is gone */
    control.on('error', () => undefined);
    control.resume();
    let running = true;
    const exited = new Promise<ExecExit>((resolve, reject) => {
      let reported = '';
      let reportDone = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const settle = () => {
        if (!reportDone || !exit) return;
        const lines = reported
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line): unknown => {
            try {
              return JSON.parse(line);
            } catch {
              return undefined;
            }
          });
        if (isNativeFailure(lines[0])) return reject(execError(name, lines[0]));
        const status = lines.find(
          (line): line is { exitCode: number; signal?: number } =>
            typeof line === 'object' && line !== null && typeof (line as { exitCode?: unknown }).exitCode === 'number',
        );
        if (!status) {
          const how = exit.signal ?? `status ${exit.code}`;
          return reject(new NativeCallError(`berth-monitor exec ended (${how}) without the command's status`, 'waitid', 10, 'ECHILD'));
        }
        resolve(typeof status.signal === 'number' ? { exitCode: status.exitCode, signal: status.signal } : { exitCode: status.exitCode });
      };
      report.setEncoding('utf8');
      report.on('data', (chunk: string) => (reported += chunk));
      report.on('close', () => {
        reportDone = true;
        settle();
      });
      helper.on('error', (error) => {
        running = false;
        reject(error);
      });
      helper.on('exit', (code, signal) => {
        running = false;
        exit = { code, signal };
        settle();
      });
    });
    exited.catch(() => undefined); /* a caller that never awaits it must not crash the process */
    const send = (request: object) => {
      if (running && control.writable) control.write(`${JSON.stringify(request)}\n`);
    };
    return {
      stdin,
      stdout: helper.stdio[1] as Readable,
      stderr,
      exited,
      resize(rows: number, cols: number): void {
        if (!pty) throw new InvalidContainerSpecError('pty', 'resize needs a command started with a pty');
        checkWindow(rows, cols);
        send({ resize: [rows, cols] });
      },
      signal(signo: number): void {
        if (!Number.isInteger(signo) || signo < 1 || signo > 64) {
          throw new InvalidContainerSpecError('signal', 'must be a signal number in 1..64');
        }
        send({ signal: signo });
      },
    };
  }

  /** berth-monitor exec's arguments; throws InvalidContainerSpecError on bad input. */
  private execArgs(name: string, argv: string[], options: ExecStreamOptions, extra: string[]): string[] {
    this.checkName(name);
    if (argv.length === 0) throw new InvalidContainerSpecError('argv', 'must not be empty');
    const args = ['exec', '--berth-dir', this.berthDir, '--name', name, '--report-fd', '3', ...extra];
    if (options.cwd) args.push('--cwd', options.cwd);
    if (options.uid !== undefined) args.push('--uid', String(options.uid));
    if (options.gid !== undefined) args.push('--gid', String(options.gid));
    if (options.pty) {
      const { rows, cols } = options.pty;
      checkWindow(rows, cols);
      args.push('--pty', `${rows}x${cols}`);
    }
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || value.includes('\0')) {
        throw new InvalidContainerSpecError(`env.${key}`, 'invalid environment variable');
      }
      args.push('--env', `${key}=${value}`);
    }
    args.push('--', ...argv);
    return args;
  }

  /**
   * Attaches to the container's console: the socket first replays the monitor's ring buffer
   * (the last 64 KiB of output), then streams; what is written to it goes to the console.
   * Any number of clients can attach; destroying the socket detaches.
   */
  attachConsole(name: string): Promise<net.Socket> {
    this.checkName(name);
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(this.socketPath(name));
      let header = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        header = Buffer.concat([header, chunk]);
        const newline = header.indexOf(0x0a);
        if (newline < 0) return;
        socket.off('data', onData);
        socket.off('error', onError);
        socket.pause();
        const answer: unknown = JSON.parse(header.subarray(0, newline).toString('utf8'));
        if (isNativeFailure(answer)) {
          socket.destroy();
          return reject(nativeError(answer));
        }
        const rest = header.subarray(newline + 1);
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      };
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
            ? new ContainerNotRunningError(name)
            : new NativeCallError(error.message, error.syscall ?? 'connect', Math.abs(error.errno ?? 5), error.code ?? 'EIO'),
        );
      };
      socket.on('connect', () => socket.write('{"op":"attach"}\n'));
      socket.on('data', onData);
      socket.on('error', onError);
    });
  }

  /** Every container whose monitor is alive under this berthDir (after a daemon restart). */
  async adoptRunning(): Promise<ContainerState[]> {
    const dir = path.join(this.berthDir, 'containers');
    if (!existsSync(dir)) return [];
    const states: ContainerState[] = [];
    for (const name of await readdir(dir)) {
      if (!NAME.test(name)) continue;
      const state = await this.state(name);
      if (state.state !== 'Stopped') states.push(state);
    }
    return states;
  }

  /**
   * Removes what a stopped container leaves in its runtime directory (its console log): its
   * instance is being deleted. Refused while a monitor still answers for it.
   */
  async forget(name: string): Promise<void> {
    this.checkName(name);
    if ((await this.state(name)).state !== 'Stopped') throw new ContainerAlreadyRunningError(name);
    await this.reap(name);
    await rm(path.join(this.berthDir, 'containers', name), { recursive: true, force: true });
  }

  /**
   * A monitor killed with SIGKILL takes its container with it (the kernel kills every process of
   * the container's pid namespace once init is gone) but leaves its cgroups, named in its state
   * file; the next monitor of that container would remove them. This removes them now, once no
   * monitor answers (with its socket): only names of the shape monitors give (`berth/<name>-<8 hex>`,
   * `berth/monitor/<name>-<8 hex>`), and only empty directories (rmdir), deepest first. Returns
   * the cgroups removed; a cgroup still busy stays, with the state file that names it.
   */
  async reap(name: string): Promise<string[]> {
    this.checkName(name);
    const file = path.join(this.berthDir, 'containers', name, 'state.json');
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined || (await this.state(name)).state !== 'Stopped') return [];
    // No monitor answers on it any more.
    await rm(this.socketPath(name), { force: true });
    let recorded: { cgroup?: unknown; monitorCgroup?: unknown };
    try {
      recorded = JSON.parse(text) as typeof recorded;
    } catch {
      return [];
    }
    const shape = (prefix: string) => new RegExp(`^${prefix}/${name.replace(/[.]/g, '\\.')}-[0-9a-f]{8}$`);
    const rels = [
      typeof recorded.cgroup === 'string' && shape('berth').test(recorded.cgroup) ? recorded.cgroup : undefined,
      typeof recorded.monitorCgroup === 'string' && shape('berth/monitor').test(recorded.monitorCgroup) ? recorded.monitorCgroup : undefined,
    ].filter((r): r is string => r !== undefined);
    const removed: string[] = [];
    let busy = false;
    for (const root of cgroupRoots()) {
      for (const rel of rels) {
        const top = path.join(root, rel);
        if (!existsSync(top)) continue;
        for (const dir of await subdirectoriesDeepestFirst(top)) {
          await rmdir(dir).then(
            () => removed.push(dir),
            (err: NodeJS.ErrnoException) => (busy ||= err.code !== 'ENOENT'),
          );
        }
      }
    }
    if (!busy) await rm(file, { force: true });
    return removed;
  }

  /** Who is at the other end of a connected unix socket `fd` (SO_PEERCRED, in the host's namespaces). */
  peerCredentials(fd: number): PeerCredentials {
    try {
      return loadNative(this.nativeDir).peerCredentials(fd);
    } catch (error) {
      const e = error as { syscall?: string; errno?: number; code?: string; message: string };
      throw new NativeCallError(e.message, e.syscall ?? 'getsockopt', e.errno ?? 0, e.code ?? 'EUNKNOWN');
    }
  }

  /** Last resort when a monitor no longer answers: SIGKILL through a pidfd. */
  async killProcess(pid: number): Promise<void> {
    try {
      await loadNative(this.nativeDir).signalProcess(pid, 9);
    } catch (error) {
      const e = error as { syscall?: string; errno?: number; code?: string; message: string };
      throw new NativeCallError(e.message, e.syscall ?? 'pidfd_open', e.errno ?? 0, e.code ?? 'EUNKNOWN');
    }
  }

  /**
   * Calls `onChange` whenever the container's monitor creates or replaces a file in its runtime
   * directory, as it does with its state file when a reboot from inside gave the container a new
   * init (and on READY=1). A hint to ask state() again, no more. Returns the function that stops
   * watching; undefined when there is no runtime directory (the container is gone).
   */
  watch(name: string, onChange: () => void): (() => void) | undefined {
    try {
      const watcher = watch(path.join(this.berthDir, 'containers', name), { persistent: false }, (event) => {
        if (event === 'rename') onChange();
      });
      watcher.on('error', () => watcher.close());
      return () => watcher.close();
    } catch {
      return undefined;
    }
  }

  private socketPath(name: string): string {
    return path.join(this.berthDir, 'containers', name, 'monitor.sock');
  }

  private checkName(name: string): void {
    if (!NAME.test(name) || /^[0-9]+$/.test(name)) {
      throw new InvalidContainerSpecError('name', 'must be 1-63 of [A-Za-z0-9-], not all digits, no leading or trailing -');
    }
  }
}

/** Where Debian's lxcfs package mounts its FUSE filesystem (LXD looks there too). */
const LXCFS_DIR = '/var/lib/lxcfs';

/**
 * The lxcfs mount when lxcfs runs (its meminfo answers), for a container's /proc files to show
 * its own limits (ContainerSpec.lxcfs); undefined otherwise (a dead FUSE daemon's mount answers ENOTCONN).
 */
export async function lxcfsMount(): Promise<string | undefined> {
  try {
    await readFile(path.join(LXCFS_DIR, 'proc', 'meminfo'));
    return LXCFS_DIR;
  } catch {
    return undefined;
  }
}

/** Where each cgroup hierarchy is mounted (v1 controllers, and the v2 tree), from mountinfo. */
function cgroupRoots(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => {
      const type = fields[fields.indexOf('-') + 1];
      return type === 'cgroup' || type === 'cgroup2';
    })
    .map((fields) => fields[4]);
}

/** `top` and every directory below it, deepest first (the order rmdir needs). */
async function subdirectoriesDeepestFirst(top: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) await visit(path.join(dir, e.name));
    out.push(dir);
  };
  await visit(top);
  return out;
}
