import { parseIpv4, subnetOf, type InterfaceAddress, type Subnet, formatInterfaceAddress } from '../domain/ipv4.js';
import { NetworkCommandError } from '../domain/network.errors.js';
import { run, runJson } from './command.js';

interface IpLink {
  ifname: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
  master?: string;
  mtu: number;
  address?: string;
  flags?: string[];
}

interface IpAddr {
  ifname: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number }>;
}

interface IpRoute {
  dst: string;
  type?: string;
  dev?: string;
  table?: string;
}

/** One `ip` invocation, run in the host's namespace or, via nsenter, in another one. */
export function ip(args: readonly string[], netns?: NetnsRef): Promise<{ stdout: string }> {
  if (netns === undefined) return run('ip', args);
  return run('nsenter', [`--net=${netnsPath(netns)}`, '--', 'ip', ...args]);
}

/** A network namespace: a process holding it (pid) or a bind-mounted namespace file (path). */
export type NetnsRef = { readonly pid: number } | { readonly path: string };

export function netnsPath(netns: NetnsRef): string {
  return 'pid' in netns ? `/proc/${netns.pid}/ns/net` : netns.path;
}

export interface LinkInfo {
  readonly name: string;
  readonly kind: string | undefined;
  readonly master: string | undefined;
  readonly mtu: number;
  readonly mac: string | undefined;
  readonly up: boolean;
}

/** The link, or undefined when there is no interface of that name. */
export async function findLink(name: string, netns?: NetnsRef): Promise<LinkInfo | undefined> {
  try {
    const { stdout } = await ip(['-j', '-d', 'link', 'show', 'dev', name], netns);
    const [l] = JSON.parse(stdout) as IpLink[];
    return l && { name: l.ifname, kind: l.linkinfo?.info_kind, master: l.master, mtu: l.mtu, mac: l.address, up: l.flags?.includes('UP') ?? false };
  } catch (err) {
    if (err instanceof NetworkCommandError && /does not exist/.test(err.stderr)) return undefined;
    throw err;
  }
}

/** Deletes a link if it is there; a veth's peer goes with it. */
export async function deleteLinkIfExists(name: string, netns?: NetnsRef): Promise<boolean> {
  try {
    await ip(['link', 'delete', 'dev', name], netns);
    return true;
  } catch (err) {
    if (err instanceof NetworkCommandError && /Cannot find device|does not exist/.test(err.stderr)) return false;
    throw err;
  }
}

export interface HostPrefix {
  readonly subnet: Subnet;
  /** Where it comes from, for error messages: `route 192.0.2.0/24 dev eth0`, `address … on lo`. */
  readonly source: string;
  /** The interface the route or address belongs to, when it names one. */
  readonly device?: string;
}

/**
 * Every IPv4 prefix the host already reaches or owns: routes in all tables (default routes
 * excepted, since they overlap everything) and the subnets of all assigned addresses.
 */
export async function readHostPrefixes(): Promise<HostPrefix[]> {
  const routes = await runJson<IpRoute[]>('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
  const addresses = await runJson<IpAddr[]>('ip', ['-j', '-4', 'addr', 'show']);
  const prefixes: HostPrefix[] = [];
  for (const route of routes) {
    if (route.dst === 'default' || route.type === 'broadcast') continue;
    const [address, prefix] = route.dst.split('/');
    const subnet = subnetOf(parseIpv4('route', address!), prefix === undefined ? 32 : Number(prefix));
    prefixes.push({
      subnet,
      source: `route ${route.dst}${route.dev ? ` dev ${route.dev}` : ''}${route.table ? ` table ${route.table}` : ''}`,
      ...(route.dev ? { device: route.dev } : {}),
    });
  }
  for (const link of addresses) {
    for (const a of link.addr_info.filter((i) => i.family === 'inet')) {
      prefixes.push({ subnet: subnetOf(parseIpv4('address', a.local), a.prefixlen), source: `address ${a.local}/${a.prefixlen} on ${link.ifname}`, device: link.ifname });
    }
  }
  return prefixes;
}

/** Creates a bridge, down, with its MTU; the caller adds the address and brings it up. */
export async function createBridge(name: string, mtu: number): Promise<void> {
  await ip(['link', 'add', 'name', name, 'mtu', String(mtu), 'type', 'bridge']);
}

export async function addAddress(device: string, address: InterfaceAddress): Promise<void> {
  await ip(['addr', 'add', formatInterfaceAddress(address), 'dev', device]);
}

export async function setLinkUp(device: string, netns?: NetnsRef): Promise<void> {
  await ip(['link', 'set', 'dev', device, 'up'], netns);
}
