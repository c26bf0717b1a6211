import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';

import {
  ContainerAlreadyRunningError,
  ContainerNotRunningError,
  InvalidContainerSpecError,
  NativeCallError,
  isNativeFailure,
  nativeError,
} from './errors.js';
import { requestMonitor } from './monitor-client.js';
import { defaultNativeDir, loadNative, monitorBinary } from './native.js';

/** What the monitor reports about a container. */
export type ContainerStatus = 'Running' | 'Ready' | 'Stopping' | 'Stopped';

export interface IdMap {
  /** Host uid and gid of the container's root. */
  hostId: number;
  /** Number of ids mapped (at least 65536). */
  count: number;
}

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
  /** Resolve only once systemd reported READY=1 (default true). */
  waitReady?: boolean;
  /** How long to wait for READY=1 before failing (default 60 s). */
  readyTimeoutMs?: number;
}

export interface ContainerState {
  name: string;
  state: ContainerStatus;
  /** Host pid of the container's init (systemd), 0 when stopped. */
  pid: number;
  monitorPid: number;
  /** The container's cgroup, relative to each hierarchy's root. */
  cgroup: string;
  cgroupLayout: 'unified' | 'hybrid';
  /** Milliseconds from init's start to READY=1, null until then. */
  readyMs: number | null;
  startedAt: Date;
  /** The last STATUS= line of systemd. */
  status: string;
  reboots: number;
  /** How the previous init ended: `reboot`, `poweroff`, `exited:N`, `killed:SIG`, or empty. */
  lastExit: string;
}

export interface StopOptions {
  /** Seconds systemd gets to halt before the cgroup is killed (default 30). */
  timeout?: number;
  /** Kill at once instead of asking systemd to halt. */
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

export interface RuntimeOptions {
  /** The daemon's state directory; monitors live under `<berthDir>/containers/<name>/`. */
  berthDir: string;
  /** Where berth-monitor and berth_native.node are (default: native/build/Release). */
  nativeDir?: string;
}

const NAME = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

interface RawState extends Omit<ContainerState, 'startedAt'> {
  ok: true;
  startedAt: number;
}

function toState(raw: RawState): ContainerState {
  const { ok: _ok, startedAt, ...rest } = raw;
  return { ...rest, startedAt: new Date(startedAt) };
}

function stopped(name: string): ContainerState {
  return {
    name,
    state: 'Stopped',
    pid: 0,
    monitorPid: 0,
    cgroup: '',
    cgroupLayout: 'hybrid',
    readyMs: null,
    startedAt: new Date(0),
    status: '',
    reboots: 0,
    lastExit: '',
  };
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

  constructor(options: RuntimeOptions) {
    if (!path.isAbsolute(options.berthDir)) {
      throw new InvalidContainerSpecError('berthDir', 'must be an absolute path');
    }
    this.berthDir = options.berthDir;
    this.nativeDir = options.nativeDir ?? defaultNativeDir;
  }

  /** Starts a container and, unless `waitReady` is false, waits for systemd's READY=1. */
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
    const monitor = spawn(monitorBinary(this.nativeDir), args, {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    const reported = await readAll(monitor.stdio[3] as Readable);
    monitor.unref();
    const report: unknown = reported ? JSON.parse(reported.split('\n')[0]!) : undefined;
    if (isNativeFailure(report)) {
      if (report.syscall === 'flock' && report.code === 'EAGAIN') {
        throw new ContainerAlreadyRunningError(spec.name);
      }
      throw nativeError(report);
    }
    if (!report || (report as { ok?: unknown }).ok !== true) {
      throw new NativeCallError(`berth-monitor ended without a report for ${spec.name}`, 'waitid', 10, 'ECHILD');
    }
    if (spec.waitReady === false) return toState(report as RawState);
    return this.waitReady(spec.name, spec.readyTimeoutMs ?? 60_000);
  }

  /** Resolves once the container reported READY=1; fails if it stops first. */
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
   * Stops the container: SIGRTMIN+3 to systemd, a kill of its cgroup after `timeout` seconds
   * (or at once with `force`). Resolves once the monitor removed everything and exited.
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
    this.checkName(name);
    if (argv.length === 0) throw new InvalidContainerSpecError('argv', 'must not be empty');
    const args = ['exec', '--berth-dir', this.berthDir, '--name', name, '--report-fd', '3'];
    if (options.cwd) args.push('--cwd', options.cwd);
    if (options.uid !== undefined) args.push('--uid', String(options.uid));
    if (options.gid !== undefined) args.push('--gid', String(options.gid));
    if (options.pty) {
      const { rows, cols } = options.pty;
      if (![rows, cols].every((n) => Number.isInteger(n) && n > 0 && n <= 10_000)) {
        throw new InvalidContainerSpecError('pty', 'rows and cols must be integers in 1..10000');
      }
      args.push('--pty', `${rows}x${cols}`);
    }
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || value.includes('\0')) {
        throw new InvalidContainerSpecError(`env.${key}`, 'invalid environment variable');
      }
      args.push('--env', `${key}=${value}`);
    }
    args.push('--', ...argv);
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
    if (isNativeFailure(failure)) {
      if (failure.syscall === 'connect' && ['ENOENT', 'ECONNREFUSED'].includes(failure.code)) {
        throw new ContainerNotRunningError(name);
      }
      throw nativeError(failure);
    }
    return { exitCode, stdout, stderr };
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

  /** Last resort when a monitor no longer answers: SIGKILL through a pidfd. */
  async killProcess(pid: number): Promise<void> {
    try {
      await loadNative(this.nativeDir).signalProcess(pid, 9);
    } catch (error) {
      const e = error as { syscall?: string; errno?: number; code?: string; message: string };
      throw new NativeCallError(e.message, e.syscall ?? 'pidfd_open', e.errno ?? 0, e.code ?? 'EUNKNOWN');
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
