import type { GuestRoot } from '#runtime';

import type { GuestEditor } from './editor.js';
import { BACKUP_SUFFIX } from './editor.js';
import { readTextIfRegular, readdirIfExists } from './guest-files.js';
import { parseInterfaces, rewriteInterfaces } from './ifupdown.js';
import { reservationFor } from './ipv4.js';
import { parseNetplan, rewriteNetplan } from './netplan.js';
import {
  CONTAINER_INTERFACE,
  alreadyContainerReady,
  primaryInterface,
  type ConfigRewrite,
  type GuestInterface,
  type NetworkConfigKind,
} from './network-config.js';
import { parseNetworkd, rewriteNetworkd } from './networkd.js';
import { parseNmKeyfile, rewriteNmKeyfile } from './nm-keyfile.js';
import type { NetworkOutcome } from './report.js';

type ConfigKind = Exclude<NetworkConfigKind, 'none'>;

interface ConfigSystem {
  kind: ConfigKind;
  files(guest: GuestRoot): Promise<string[]>;
  parse(text: string, file: string): GuestInterface[];
  rewrite(text: string, file: string, primary: GuestInterface): ConfigRewrite;
}

/** Regular files (or symlinks) of a directory, backups and hidden files excepted, by name. */
async function filesIn(guest: GuestRoot, dir: string, accept: (name: string) => boolean): Promise<string[]> {
  return (await readdirIfExists(guest, dir))
    .filter((e) => (e.type === 'file' || e.type === 'symlink') && !e.name.startsWith('.') && !e.name.endsWith(BACKUP_SUFFIX) && accept(e.name))
    .map((e) => `${dir}/${e.name}`);
}

/** In the order a guest's network is looked for: netplan generates for the others, so it wins. */
const SYSTEMS: ConfigSystem[] = [
  {
    kind: 'netplan',
    files: (guest) => filesIn(guest, '/etc/netplan', (n) => n.endsWith('.yaml') || n.endsWith('.yml')),
    parse: parseNetplan,
    rewrite: (text, _file, primary) => rewriteNetplan(text, primary.name),
  },
  {
    kind: 'ifupdown',
    files: async (guest) => [
      ...((await guest.lstatIfExists('/etc/network/interfaces')) ? ['/etc/network/interfaces'] : []),
      ...(await filesIn(guest, '/etc/network/interfaces.d', () => true)),
    ],
    parse: parseInterfaces,
    rewrite: (text, _file, primary) => rewriteInterfaces(text, primary.name),
  },
  {
    kind: 'networkd',
    files: (guest) => filesIn(guest, '/etc/systemd/network', (n) => n.endsWith('.network')),
    parse: parseNetworkd,
    rewrite: (text, file, primary) => (file === primary.file ? rewriteNetworkd(text, file) : { text, edits: [], warnings: [] }),
  },
  {
    kind: 'NetworkManager',
    files: (guest) => filesIn(guest, '/etc/NetworkManager/system-connections', () => true),
    parse: parseNmKeyfile,
    rewrite: (text, file, primary) => (file === primary.file ? rewriteNmKeyfile(text, file) : { text, edits: [], warnings: [] }),
  },
];

export interface NetworkDiscovery {
  kind: NetworkConfigKind;
  interfaces: GuestInterface[];
}

/** Every interface the guest's network configuration systems set up, and the one that counts. */
export async function discoverNetwork(guest: GuestRoot): Promise<NetworkDiscovery> {
  const interfaces: GuestInterface[] = [];
  let kind: NetworkConfigKind = 'none';
  for (const system of SYSTEMS) {
    const found: GuestInterface[] = [];
    for (const file of await system.files(guest)) {
      const text = await readTextIfRegular(guest, file);
      if (text !== undefined) found.push(...system.parse(text, file));
    }
    if (found.length > 0 && kind === 'none') kind = system.kind;
    interfaces.push(...found);
  }
  return { kind, interfaces };
}

export interface NetworkFixUp {
  outcome: NetworkOutcome;
  warnings: string[];
}

/**
 * Moves the primary interface's configuration to eth0 by DHCP in the system that configures it,
 * and tells which address to reserve so the container keeps the VM's.
 */
export async function fixUpNetwork(
  guest: GuestRoot,
  editor: GuestEditor,
  discovery: NetworkDiscovery,
  network: { name: string; subnet: string; gateway: string } | null | undefined,
): Promise<NetworkFixUp> {
  const warnings: string[] = [];
  const outcome: NetworkOutcome = { config: discovery.kind, newInterface: CONTAINER_INTERFACE, mode: 'dhcp' };
  const system = SYSTEMS.find((s) => s.kind === discovery.kind);
  const own = discovery.interfaces.filter((i) => i.config === discovery.kind);
  const primary = primaryInterface(own);
  if (!system || !primary) {
    warnings.push(`no network configuration found for a wired interface: ${CONTAINER_INTERFACE} is not configured unless the guest does it itself`);
    return { outcome, warnings };
  }
  for (const other of new Set(discovery.interfaces.filter((i) => i.config !== discovery.kind).map((i) => i.config))) {
    warnings.push(`${other} configures interfaces too (${discovery.interfaces.filter((i) => i.config === other).map((i) => i.name).join(', ')}): left as is, ${discovery.kind} is the one adapted`);
  }
  const staticAddress = primary.method === 'static' ? primary.addresses[0] : undefined;
  if (staticAddress) outcome.staticAddress = staticAddress;
  if (!alreadyContainerReady(primary)) {
    outcome.oldInterface = primary.name;
    for (const file of await system.files(guest)) {
      const text = await readTextIfRegular(guest, file);
      if (text === undefined) continue;
      const rewrite = system.rewrite(text, file, primary);
      warnings.push(...rewrite.warnings);
      if (rewrite.text !== text && rewrite.edits.length > 0) await editor.replaceText(file, rewrite.text, 'network', rewrite.edits);
    }
    if (discovery.kind === 'ifupdown' && !(await hasDhcpClient(guest))) {
      warnings.push('ifupdown needs a DHCP client (isc-dhcp-client, dhcpcd or udhcpc) and the guest has none: install one, or eth0 gets no address');
    }
  }
  if (staticAddress && network) {
    const reservation = reservationFor(staticAddress, network.subnet, network.gateway);
    if (reservation) outcome.reservation = reservation;
    else warnings.push(`the VM's address ${staticAddress} is not a host address of ${network.name} (${network.subnet}): the container gets another one by DHCP`);
  }
  return { outcome, warnings };
}

async function hasDhcpClient(guest: GuestRoot): Promise<boolean> {
  for (const candidate of ['/sbin/dhclient', '/usr/sbin/dhclient', '/sbin/dhcpcd', '/usr/sbin/dhcpcd', '/sbin/udhcpc', '/usr/sbin/udhcpc', '/bin/busybox']) {
    if (await guest.lstatIfExists(candidate)) return true;
  }
  return false;
}
