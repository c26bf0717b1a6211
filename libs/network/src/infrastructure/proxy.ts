import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DomainError, ValidationError } from '#core';
import type { PortForward } from '../domain/port-forward.js';
import { checkProxyPair, parseProxyAddress, type ProxyAddress } from '../domain/proxy-address.js';
import type { NatBackend } from './nat-backend.js';
import { assertHostAddress, hostNatBackend, installedForwards, installForward, removeForward, type InstalledForward } from './port-forwards.js';

/**
 * A proxy device as Berth runs it: relayed by berth-proxy (the addresses as written, the listen
 * socket's owner and mode), or, with `nat`, forwarded by the kernel.
 */
export interface ProxyDevice {
  readonly listen: string;
  readonly connect: string;
  /** Owner and mode of a listening unix socket file (LXD's uid, gid, mode); unset otherwise. */
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  /** Seconds a UDP client may stay silent before its session is closed; berth-proxy's default (30) when unset. */
  readonly udpIdle?: number;
  /** nat=true: DNAT rules instead of a berth-proxy process. */
  readonly nat?: PortForward;
}

/** A nic's static address on a managed network, by nic device name: what nat=true forwards to. */
export interface NicAddress {
  readonly network: string;
  readonly address: string;
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
 * Checks a `type=proxy` device and returns how Berth runs it. `nicAddresses` are the instance's
 * nics with a static `ipv4.address`: with `nat=true` the connect address must be one of them (or
 * 0.0.0.0 for the first, by device name), as in LXD, and the listen address an IPv4 address of the
 * host, not the wildcard. Refuses, naming the key, what Berth does not do yet: `bind=instance`
 * (listening inside the container), UDP to or from another protocol, IPv6 in nat mode,
 * `proxy_protocol=true` and `security.uid`/`security.gid` other than 0.
 */
export function proxyDeviceOf(device: string, spec: Readonly<Record<string, string | undefined>>, nicAddresses: Readonly<Record<string, NicAddress>> = {}): ProxyDevice {
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
    if (socketPathTooLong(address)) throw new ValidationError(field(key), `a unix socket address must be at most ${MAX_SOCKET_PATH} bytes`);
    return address;
  });
  const [listen, connect] = sides as [ProxyAddress, ProxyAddress];
  checkProxyPair(listen, connect, field('connect'));
  if ((listen.protocol === 'udp') !== (connect.protocol === 'udp')) {
    throw new ValidationError(field('connect'), `cannot relay ${listen.protocol} to ${connect.protocol} (udp is relayed to udp only)`);
  }

  const bind = spec.bind === undefined || spec.bind === '' ? 'host' : spec.bind;
  if (bind === 'instance') throw new ValidationError(field('bind'), 'bind=instance (listening inside the instance) is not supported yet; use bind=host');
  if (bind !== 'host') throw new ValidationError(field('bind'), 'must be host or instance');
  const nat = flag('nat');
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
  if (nat) return { listen: spec.listen!, connect: spec.connect!, nat: portForwardOf(listen, connect, nicAddresses, field) };
  const ownsFile = listen.protocol === 'unix' && !listen.path.startsWith('@');
  return {
    listen: spec.listen!,
    connect: spec.connect!,
    ...(ownsFile && uid !== undefined ? { uid } : {}),
    ...(ownsFile && gid !== undefined ? { gid } : {}),
    ...(ownsFile && mode !== undefined ? { mode } : {}),
  };
}

/** LXD's rules for nat=true, with Berth's addresses: the target is a nic's static IPv4 address on a managed bridge. */
function portForwardOf(listen: ProxyAddress, connect: ProxyAddress, nics: Readonly<Record<string, NicAddress>>, field: (key: string) => string): PortForward {
  if (listen.protocol === 'unix' || connect.protocol === 'unix') {
    throw new ValidationError(field('nat'), `proxying ${listen.protocol} to ${connect.protocol} is not supported with nat=true (tcp to tcp, or udp to udp)`);
  }
  for (const [key, side] of [['listen', listen], ['connect', connect]] as const) {
    if (side.family !== 4) throw new ValidationError(field(key), "nat=true forwards IPv4 only (Berth's bridges have no IPv6)");
  }
  if (listen.host === '0.0.0.0') throw new ValidationError(field('listen'), 'cannot listen on the wildcard address 0.0.0.0 with nat=true: name an address of the host');
  const statics = Object.entries(nics).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const target = connect.host === '0.0.0.0' ? statics[0]?.[1] : statics.find(([, nic]) => nic.address === connect.host)?.[1];
  if (!target) {
    throw new ValidationError(
      field('connect'),
      statics.length === 0
        ? 'nat=true needs a nic with a static ipv4.address on a managed network to connect to; the instance has none'
        : `${connect.host} is not one of the instance's static IPv4 addresses (${statics.map(([, nic]) => nic.address).join(', ')})`,
    );
  }
  return { protocol: listen.protocol, listenAddress: listen.host, listenPorts: listen.ports, targetAddress: target.address, targetPorts: connect.ports, bridge: target.network };
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
  if (proxy.udpIdle !== undefined) args.push('--udp-idle', String(proxy.udpIdle));
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

/**
 * Stops the proxy of one device: its berth-proxy (SIGTERM, SIGKILL after 5 s) or its forward's
 * rules. Resolves false if neither was there.
 */
export async function stopProxy(berthDir: string, instance: string, device: string, nat?: NatBackend): Promise<boolean> {
  const proxy = (await runningProxies(berthDir, instance)).find((p) => p.device === device);
  if (proxy) await stopRunning(berthDir, proxy);
  const forward = (await installedForwards(berthDir, instance)).find((f) => f.device === device);
  if (forward) await removeForward(nat ?? (await hostNatBackend()), berthDir, forward);
  return proxy !== undefined || forward !== undefined;
}

/** Stops every proxy of an instance, relays and forwards. */
export async function stopProxies(berthDir: string, instance: string, nat?: NatBackend): Promise<void> {
  for (const proxy of await runningProxies(berthDir, instance)) await stopRunning(berthDir, proxy);
  const forwards = await installedForwards(berthDir, instance);
  if (forwards.length === 0) return;
  const backend = nat ?? (await hostNatBackend());
  for (const forward of forwards) await removeForward(backend, berthDir, forward);
}

export interface SyncProxiesOptions {
  readonly berthDir: string;
  readonly instance: string;
  /** Host pid of the container's init. */
  readonly pid: number;
  /** The proxy devices the instance should have, by device name (see proxyDeviceOf). */
  readonly devices: Readonly<Record<string, ProxyDevice>>;
  readonly helperPath?: string;
  /** Where nat=true devices' rules go; the host's backend (nftables, else iptables) when unset. */
  readonly nat?: NatBackend;
}

/**
 * Makes the proxies of an instance match `devices`: stops the relays and removes the forwards no
 * longer wanted or changed (different addresses, another init, another nic address), then starts
 * and installs the missing ones. A nat=true device's listen address must be one of the host's
 * (a ValidationError naming the device otherwise). All or nothing: if a start fails, what this
 * call started is stopped and what it stopped is started again, then the error is rethrown.
 */
export async function syncProxies(options: SyncProxiesOptions): Promise<{ started: string[]; stopped: string[] }> {
  const { berthDir, instance, pid, devices } = options;
  const helperPath = locateProxyHelper(options.helperPath);
  const entries = Object.entries(devices);
  const wanted = new Map(entries.filter(([, proxy]) => !proxy.nat).map(([device, proxy]) => [device, proxyArgs(berthDir, instance, device, pid, proxy)]));
  const wantedForwards = new Map(entries.flatMap(([device, proxy]) => (proxy.nat ? [[device, proxy.nat] as const] : [])));
  const installed = await installedForwards(berthDir, instance);
  const nat = wantedForwards.size > 0 || installed.length > 0 ? (options.nat ?? (await hostNatBackend())) : undefined;
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

  const stopped: RunningProxy[] = [];
  const removed: InstalledForward[] = [];
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
  for (const forward of installed) {
    const want = wantedForwards.get(forward.device);
    if (want && JSON.stringify(want) === JSON.stringify(forward.forward) && (await nat!.forwardExists(forward.id))) {
      kept.add(forward.device);
      continue;
    }
    await removeForward(nat!, berthDir, forward);
    removed.push(forward);
  }

  const started: string[] = [];
  const added: string[] = [];
  try {
    for (const [device, args] of wanted) {
      if (kept.has(device)) continue;
      await spawnProxy(helperPath, instance, device, args);
      started.push(device);
    }
    for (const [device, forward] of wantedForwards) {
      if (kept.has(device)) continue;
      await assertHostAddress(`devices["${device}"]["listen"]`, forward.listenAddress);
      await installForward(nat!, berthDir, instance, device, forward);
      added.push(device);
    }
  } catch (err) {
    for (const device of [...started, ...added]) await stopProxy(berthDir, instance, device, nat).catch(() => undefined);
    for (const old of stopped) await spawnProxy(helperPath, instance, old.device, old.args).catch(() => undefined);
    for (const old of removed) await installForward(nat!, berthDir, instance, old.device, old.forward).catch(() => undefined);
    throw err;
  }
  return { started: [...started, ...added], stopped: [...stopped.map((p) => p.device), ...removed.map((f) => f.device)] };
}
