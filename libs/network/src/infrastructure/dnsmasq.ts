import { readFile, rm, writeFile, rename, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DnsmasqPaths } from '../domain/dnsmasq-config.js';
import { parseLeases, type Lease } from '../domain/leases.js';
import { DnsmasqError, NetworkCommandError } from '../domain/network.errors.js';
import { reservationLine, type HostReservation } from '../domain/reservation.js';
import { run } from './command.js';

export function dnsmasqPaths(dir: string): DnsmasqPaths {
  return {
    config: join(dir, 'dnsmasq.conf'),
    pidFile: join(dir, 'dnsmasq.pid'),
    leaseFile: join(dir, 'dnsmasq.leases'),
    hostsDir: join(dir, 'dnsmasq.hosts'),
    logFile: join(dir, 'dnsmasq.log'),
  };
}

/**
 * Starts dnsmasq, which daemonizes itself: its parent exits only once the sockets are bound and
 * the pid file is written, so a bad config or a taken port is an exit status with a message here,
 * and the daemon is no child of berthd (it outlives it and is adopted through the pid file).
 * `--conf-file` on the command line is what identifies the process as this network's.
 */
export async function startDnsmasq(network: string, paths: DnsmasqPaths): Promise<number> {
  // A dnsmasq that was just killed may still hold its sockets for a moment: retry for a while.
  for (const deadline = Date.now() + 5000; ; await sleep(100)) {
    try {
      await run('dnsmasq', [`--conf-file=${paths.config}`]);
      break;
    } catch (err) {
      if (!(err instanceof NetworkCommandError)) throw err;
      if (!/Address already in use/.test(err.stderr) || Date.now() > deadline) throw new DnsmasqError(network, 'failed to start', err.stderr);
    }
  }
  const pid = await findDnsmasq(paths);
  if (pid === undefined) throw new DnsmasqError(network, `started but ${paths.pidFile} names no running dnsmasq`);
  return pid;
}

/**
 * The pid of this network's running dnsmasq, if any: the pid file must name a live process
 * whose command line is dnsmasq with this network's config file (pids are reused).
 */
export async function findDnsmasq(paths: DnsmasqPaths): Promise<number | undefined> {
  const pid = Number((await readFile(paths.pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const [binary, ...args] = cmdline.split('\u0000');
  if (!binary?.endsWith('dnsmasq') || !args.includes(`--conf-file=${paths.config}`)) return undefined;
  return pid;
}

/** Makes dnsmasq re-read its host reservations (and clear its cache). */
export async function reloadDnsmasq(network: string, paths: DnsmasqPaths): Promise<void> {
  const pid = await findDnsmasq(paths);
  if (pid === undefined) throw new DnsmasqError(network, 'is not running');
  process.kill(pid, 'SIGHUP');
}

/** Stops dnsmasq with SIGTERM and waits until it has exited (a zombie counts as exited). */
export async function stopDnsmasq(network: string, paths: DnsmasqPaths, timeoutMs = 5000): Promise<void> {
  const pid = await findDnsmasq(paths);
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) {
    if ((await findDnsmasq(paths)) === undefined) return;
  }
  process.kill(pid, 'SIGKILL');
  await sleep(50);
  if ((await findDnsmasq(paths)) !== undefined) throw new DnsmasqError(network, `pid ${pid} did not exit`);
}

/** The leases dnsmasq has granted; an absent file (DHCP off, nothing granted yet) is no lease. */
export async function readLeases(paths: DnsmasqPaths): Promise<Lease[]> {
  return parseLeases(await readFile(paths.leaseFile, 'utf8').catch(() => ''));
}

/**
 * Keeps only the leases `keep` accepts, while dnsmasq is stopped (it reads the file when it starts
 * and rewrites it whole afterwards). Lines that are not IPv4 leases are kept as they are.
 */
export async function pruneLeases(paths: DnsmasqPaths, keep: (lease: Lease) => boolean): Promise<void> {
  const text = await readFile(paths.leaseFile, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const lines = text.split('\n').filter((line) => {
    const [lease] = parseLeases(line);
    return lease === undefined || keep(lease);
  });
  const pruned = lines.join('\n');
  if (pruned === text) return;
  await writeFile(`${paths.leaseFile}.tmp`, pruned, { mode: 0o644 });
  await rename(`${paths.leaseFile}.tmp`, paths.leaseFile);
}

/** The file name of one host in the hosts directory; MACs are unique on a network. */
function hostFile(paths: DnsmasqPaths, mac: string): string {
  return join(paths.hostsDir, mac.replaceAll(':', ''));
}

/** Writes one host's reservation (atomically, by rename, so dnsmasq never reads half a line). */
export async function writeHost(paths: DnsmasqPaths, reservation: HostReservation): Promise<void> {
  const file = hostFile(paths, reservation.mac);
  await writeFile(`${file}.tmp`, `${reservationLine(reservation)}\n`, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}

export async function removeHost(paths: DnsmasqPaths, mac: string): Promise<void> {
  await rm(hostFile(paths, mac), { force: true });
}

export async function listHosts(paths: DnsmasqPaths): Promise<string[]> {
  const files = await readdir(paths.hostsDir).catch(() => [] as string[]);
  return Promise.all(files.filter((f) => !f.endsWith('.tmp')).map(async (f) => (await readFile(join(paths.hostsDir, f), 'utf8')).trim()));
}
