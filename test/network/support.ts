import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a command (argument array, no shell) and returns its stdout. */
export async function sh(file: string, ...args: string[]): Promise<string> {
  return (await exec(file, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })).stdout;
}

/** Runs a command inside a named network namespace. */
export function inNs(ns: string, ...args: string[]): Promise<string> {
  return sh('ip', 'netns', 'exec', ns, ...args);
}

/** Starts a long-running command inside a named network namespace. */
export function spawnInNs(ns: string, ...args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Pids of dnsmasq processes that are alive (this machine's PID 1 does not reap, so zombies linger). */
export async function liveDnsmasqPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const match = /^\d+ \((.*)\) (\S)/s.exec(stat);
    if (match?.[1] === 'dnsmasq' && match[2] !== 'Z') pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}

/** What the tests may change on the host, to compare before and after. */
export interface HostSnapshot {
  links: string[];
  nftTables: string[];
  dnsmasq: number[];
  netns: string[];
  ipForward: string;
}

export async function hostSnapshot(): Promise<HostSnapshot> {
  const links = (JSON.parse(await sh('ip', '-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
  const nft = JSON.parse(await sh('nft', '-j', 'list', 'tables')) as { nftables: Array<{ table?: { family: string; name: string } }> };
  const nftTables = nft.nftables.flatMap((e) => (e.table ? [`${e.table.family} ${e.table.name}`] : [])).sort();
  const netns = (await readdir('/run/netns').catch(() => [] as string[])).sort();
  return { links, nftTables, dnsmasq: await liveDnsmasqPids(), netns, ipForward: (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim() };
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(100)) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** The IPv4 address (without prefix) of `dev` inside a named namespace, if it has one. */
export async function nsAddress(ns: string, dev: string): Promise<string | undefined> {
  const out = JSON.parse(await sh('ip', '-n', ns, '-j', '-4', 'addr', 'show', 'dev', dev)) as Array<{ addr_info: Array<{ local: string }> }>;
  return out[0]?.addr_info[0]?.local;
}

/** Stops a child and waits for it to exit. */
export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
  await exited;
}
