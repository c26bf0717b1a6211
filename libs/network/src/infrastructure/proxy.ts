import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DomainError, ValidationError } from '#core';
import { checkProxyPair, parseProxyAddress, type ProxyAddress } from '../domain/proxy-address.js';

/** A proxy device as berth-proxy runs it: the addresses as written, and the listen socket's owner and mode. */
export interface ProxyDevice {
  readonly listen: string;
  readonly connect: string;
  /** Owner and mode of a listening unix socket file (LXD's uid, gid, mode); unset otherwise. */
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/** A berth-proxy found through its pid file, verified by its command line. */
export interface RunningProxy {
  readonly instance: string;
  readonly device: string;
  readonly pid: number;
  /** Its arguments, after the program name. */
  readonly args: readonly string[];
}

export interface StartProxyOptions {
  /** The daemon's BERTH_DIR: pid and log files go to `containers/<instance>/proxy-<device>.{pid,log}`. */
  readonly berthDir: string;
  readonly instance: string;
  readonly device: string;
  /** Host pid of the container's init: the proxy connects inside its network namespace and exits with it. */
  readonly pid: number;
  readonly proxy: ProxyDevice;
  /** berth-proxy's path; found beside the other native helpers when unset. */
  readonly helperPath?: string;
}

/** berth-proxy could not start (its listen address is taken, the container is gone): names the device, the syscall and errno. */
export class ProxyStartError extends DomainError {
  readonly code = 'NETWORK.PROXY_FAILED';
  constructor(
    readonly instance: string,
    readonly device: string,
    readonly syscall: string,
    readonly errno: number,
    readonly errnoCode: string,
    detail: string,
  ) {
    super(`Proxy device "${device}" of instance "${instance}" could not start: ${syscall}(2) failed: ${errnoCode}${detail ? ` (${detail})` : ''}`, {
      instance,
      device,
      syscall,
      errno,
      code: errnoCode,
    });
  }
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];
/** sun_path holds 108 bytes with its terminating NUL (or leading NUL, for an abstract name). */
const MAX_SOCKET_PATH = 107;
const MAX_ID = 4_294_967_294;

function socketPathTooLong(address: ProxyAddress): boolean {
  return address.protocol === 'unix' && Buffer.byteLength(address.path.replace(/^@/, '')) > MAX_SOCKET_PATH;
}

/**
 * Checks a `type=proxy` device and returns how berth-proxy runs it. Refuses, naming the key, what
 * Berth does not do yet: UDP, `bind=instance` (listening inside the container), `nat=true`,
 * `proxy_protocol=true` and `security.uid`/`security.gid` other than 0.
 */
export function proxyDeviceOf(device: string, spec: Readonly<Record<string, string | undefined>>): ProxyDevice {
  const field = (key: string) => `devices["${device}"]["${key}"]`;
  const flag = (key: string): boolean => {
    const value = spec[key];
    if (value === undefined || value === '' || FALSE.includes(value)) return false;
    if (TRUE.includes(value)) return true;
    throw new ValidationError(field(key), 'must be true or false');
  };
  const id = (key: string): number | undefined => {
    const value = spec[key];
    if (value === undefined || value === '') return undefined;
    if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_ID) throw new ValidationError(field(key), `"${value}" is not a user or group id`);
    return Number(value);
  };

  const sides = (['listen', 'connect'] as const).map((key) => {
    const text = spec[key];
    if (text === undefined || text === '') throw new ValidationError(field(key), 'is required for a proxy device');
    const address = parseProxyAddress(field(key), text);
    if (address.protocol === 'udp') throw new ValidationError(field(key), 'udp proxies are not supported yet (tcp and unix are)');
    if (socketPathTooLong(address)) throw new ValidationError(field(key), `a unix socket address must be at most ${MAX_SOCKET_PATH} bytes`);
    return address;
  });
  const [listen, connect] = sides as [ProxyAddress, ProxyAddress];
  checkProxyPair(listen, connect, field('connect'));

  const bind = spec.bind === undefined || spec.bind === '' ? 'host' : spec.bind;
  if (bind === 'instance') throw new ValidationError(field('bind'), 'bind=instance (listening inside the instance) is not supported yet; use bind=host');
  if (bind !== 'host') throw new ValidationError(field('bind'), 'must be host or instance');
  if (flag('nat')) throw new ValidationError(field('nat'), 'nat=true is not supported yet; the proxy relays connections itself (nat=false)');
  if (flag('proxy_protocol')) throw new ValidationError(field('proxy_protocol'), 'proxy_protocol=true is not supported yet');
  for (const key of ['security.uid', 'security.gid']) {
    if ((id(key) ?? 0) !== 0) throw new ValidationError(field(key), 'running the proxy as another user is not supported yet (0 only)');
  }
  const uid = id('uid');
  const gid = id('gid');
  let mode: number | undefined;
  if (spec.mode !== undefined && spec.mode !== '') {
    if (!/^0?[0-7]{3}$/.test(spec.mode)) throw new ValidationError(field('mode'), `"${spec.mode}" is not an octal file mode such as 0644`);
    mode = parseInt(spec.mode, 8);
  }
  const ownsFile = listen.protocol === 'unix' && !listen.path.startsWith('@');
  return {
    listen: spec.listen!,
    connect: spec.connect!,
    ...(ownsFile && uid !== undefined ? { uid } : {}),
    ...(ownsFile && gid !== undefined ? { gid } : {}),
    ...(ownsFile && mode !== undefined ? { mode } : {}),
  };
}

const RELEASE_BUILD = 'native/build/Release/berth-proxy';
const MANUAL_BUILD = 'native/build/berth-proxy';

/** Where berth-proxy is: `override` if given, else the node-gyp build (or a manual one) above this file. */
export function locateProxyHelper(override?: string): string {
  if (override !== undefined && override !== '') return override;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    for (const candidate of [RELEASE_BUILD, MANUAL_BUILD]) {
      const path = join(dir, candidate);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here: look further up
      }
    }
    if (dirname(dir) === dir) throw new Error(`berth-proxy not found (looked for ${RELEASE_BUILD} and ${MANUAL_BUILD} above ${fileURLToPath(import.meta.url)})`);
  }
}

const runtimeDir = (berthDir: string, instance: string) => join(berthDir, 'containers', instance);

/** `$BERTH_DIR/containers/<instance>/proxy-<device>.pid`, written by the proxy itself once it listens. */
export function proxyPidFile(berthDir: string, instance: string, device: string): string {
  return join(runtimeDir(berthDir, instance), `proxy-${device}.pid`);
}

/** The arguments berth-proxy gets for a device: also how a running one is recognised as up to date. */
export function proxyArgs(berthDir: string, instance: string, device: string, pid: number, proxy: ProxyDevice): string[] {
  const args = ['--pid', String(pid), '--listen', proxy.listen, '--connect', proxy.connect, '--pid-file', proxyPidFile(berthDir, instance, device)];
  args.push('--log', join(runtimeDir(berthDir, instance), `proxy-${device}.log`));
  if (proxy.uid !== undefined) args.push('--uid', String(proxy.uid));
  if (proxy.gid !== undefined) args.push('--gid', String(proxy.gid));
  if (proxy.mode !== undefined) args.push('--mode', `0${proxy.mode.toString(8)}`);
  args.push('--report-fd', '3');
  return args;
}

/** The arguments of `pid` if it is a live berth-proxy writing `pidFile` (a reused pid, or a zombie, is not). */
async function proxyCommandLine(pid: number, pidFile: string): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const argv = text.split('\0').slice(0, -1);
  const at = argv.indexOf('--pid-file');
  if (argv.length === 0 || basename(argv[0]!) !== 'berth-proxy' || at < 0 || argv[at + 1] !== pidFile) return undefined;
  return argv.slice(1);
}

/**
 * The proxies running for `instance` (or for every instance), from their pid files. They keep
 * running while berthd is down, so this is how a new daemon finds them. Pid files whose process
 * is gone (a proxy killed with SIGKILL) are removed.
 */
export async function runningProxies(berthDir: string, instance?: string): Promise<RunningProxy[]> {
  const instances = instance !== undefined ? [instance] : await readdir(join(berthDir, 'containers')).catch(() => [] as string[]);
  const found: RunningProxy[] = [];
  for (const name of instances) {
    const files = await readdir(runtimeDir(berthDir, name)).catch(() => [] as string[]);
    for (const file of files.sort()) {
      const device = /^proxy-(.+)\.pid$/.exec(file)?.[1];
      if (device === undefined) continue;
      const pidFile = proxyPidFile(berthDir, name, device);
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      const args = Number.isInteger(pid) && pid > 0 ? await proxyCommandLine(pid, pidFile) : undefined;
      if (args) found.push({ instance: name, device, pid, args });
      else await unlink(pidFile).catch(() => undefined);
    }
  }
  return found;
}

function errnoName(errno: number): string {
  return Object.entries(osConstants.errno).find(([, value]) => value === errno)?.[0] ?? 'EUNKNOWN';
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('error', () => resolve(text));
    stream.on('close', () => resolve(text));
  });
}

/** Runs berth-proxy detached with `args` and waits for its report: "ok", or the syscall and errno that stopped it. */
async function spawnProxy(helperPath: string, instance: string, device: string, args: readonly string[]): Promise<number> {
  const child = spawn(helperPath, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: {} });
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => (spawnError = error));
  const report = (await readAll(child.stdio[3] as Readable)).split('\n')[0]!;
  child.unref();
  if (spawnError) {
    const errno = Math.abs(spawnError.errno ?? osConstants.errno.ENOENT);
    throw new ProxyStartError(instance, device, 'execve', errno, errnoName(errno), helperPath);
  }
  if (report === 'ok') return child.pid!;
  const failure = /^error (\S+) (\d+) ?(.*)$/.exec(report);
  if (failure) throw new ProxyStartError(instance, device, failure[1]!, Number(failure[2]), errnoName(Number(failure[2])), failure[3]!);
  throw new ProxyStartError(instance, device, 'waitid', osConstants.errno.ECHILD, 'ECHILD', 'berth-proxy ended without a report');
}

/**
 * Starts the proxy of one device: it listens on the host, connects inside the container, writes
 * its pid file, and runs detached until stopped or until the container's init exits. Resolves once
 * it listens; a listen address in use (or any other setup failure) rejects with a ProxyStartError
 * and leaves no process, pid file or socket behind.
 */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { berthDir, instance, device, pid, proxy } = options;
  const args = proxyArgs(berthDir, instance, device, pid, proxy);
  const proxyPid = await spawnProxy(locateProxyHelper(options.helperPath), instance, device, args);
  return { instance, device, pid: proxyPid, args };
}

async function waitGone(pid: number, pidFile: string, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (!(await proxyCommandLine(pid, pidFile))) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return !(await proxyCommandLine(pid, pidFile));
}

async function stopRunning(berthDir: string, proxy: RunningProxy): Promise<void> {
  const pidFile = proxyPidFile(berthDir, proxy.instance, proxy.device);
  // Checked again right before each signal: the pid must still be this proxy, not a reused one.
  const signal = async (name: NodeJS.Signals) => {
    if (!(await proxyCommandLine(proxy.pid, pidFile))) return;
    try {
      process.kill(proxy.pid, name);
    } catch {
      // gone meanwhile
    }
  };
  await signal('SIGTERM');
  if (!(await waitGone(proxy.pid, pidFile, 5_000))) {
    await signal('SIGKILL');
    await waitGone(proxy.pid, pidFile, 5_000);
  }
  // A proxy removes its own pid file on SIGTERM; after a SIGKILL it is left to us.
  await unlink(pidFile).catch(() => undefined);
}

/** Stops the proxy of one device (SIGTERM, SIGKILL after 5 s). Resolves false if none was running. */
export async function stopProxy(berthDir: string, instance: string, device: string): Promise<boolean> {
  const proxy = (await runningProxies(berthDir, instance)).find((p) => p.device === device);
  if (proxy) await stopRunning(berthDir, proxy);
  return proxy !== undefined;
}

/** Stops every proxy of an instance. */
export async function stopProxies(berthDir: string, instance: string): Promise<void> {
  for (const proxy of await runningProxies(berthDir, instance)) await stopRunning(berthDir, proxy);
}

export interface SyncProxiesOptions {
  readonly berthDir: string;
  readonly instance: string;
  /** Host pid of the container's init. */
  readonly pid: number;
  /** The proxy devices the instance should have, by device name. */
  readonly devices: Readonly<Record<string, ProxyDevice>>;
  readonly helperPath?: string;
}

/**
 * Makes the running proxies of an instance match `devices`: stops those no longer wanted or
 * changed (different addresses, or another init), starts the missing ones. All or nothing: if a
 * start fails, what this call started is stopped and what it stopped is started again, then the
 * ProxyStartError is rethrown.
 */
export async function syncProxies(options: SyncProxiesOptions): Promise<{ started: string[]; stopped: string[] }> {
  const { berthDir, instance, pid, devices } = options;
  const helperPath = locateProxyHelper(options.helperPath);
  const wanted = new Map(Object.entries(devices).map(([device, proxy]) => [device, proxyArgs(berthDir, instance, device, pid, proxy)]));
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const stopped: RunningProxy[] = [];
  const kept = new Set<string>();
  for (const running of await runningProxies(berthDir, instance)) {
    const args = wanted.get(running.device);
    if (args && same(args, running.args)) {
      kept.add(running.device);
      continue;
    }
    await stopRunning(berthDir, running);
    stopped.push(running);
  }
  const started: string[] = [];
  try {
    for (const [device, args] of wanted) {
      if (kept.has(device)) continue;
      await spawnProxy(helperPath, instance, device, args);
      started.push(device);
    }
  } catch (err) {
    for (const device of started) await stopProxy(berthDir, instance, device).catch(() => undefined);
    for (const old of stopped) await spawnProxy(helperPath, instance, old.device, old.args).catch(() => undefined);
    throw err;
  }
  return { started, stopped: stopped.map((p) => p.device) };
}
