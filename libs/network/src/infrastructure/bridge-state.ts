import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NetworkNotFoundError } from '../domain/network.errors.js';
import { ip } from './iproute.js';

/** LXD's api.NetworkState for a bridge. */
export interface BridgeState {
  addresses: Array<{ family: 'inet' | 'inet6'; address: string; netmask: string; scope: string }>;
  counters: { bytes_received: number; bytes_sent: number; packets_received: number; packets_sent: number };
  hwaddr: string;
  mtu: number;
  state: 'up' | 'down';
  type: 'broadcast';
  bridge: { id: string; stp: boolean; forward_delay: number; vlan_default: number; vlan_filtering: boolean; upper_devices: string[] };
}

interface IpAddr {
  address?: string;
  mtu: number;
  flags?: string[];
  addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
}

/** One value of /sys/class/net/<dev>/<path>, trimmed; '' when the kernel does not have it. */
async function sysfs(device: string, path: string): Promise<string> {
  return (await readFile(join('/sys/class/net', device, path), 'utf8').catch(() => '')).trim();
}

const counter = async (device: string, name: string) => Number(await sysfs(device, `statistics/${name}`)) || 0;

/**
 * Reads a bridge's state from the kernel: `ip addr` for its addresses, MAC, MTU and flags,
 * /sys/class/net/<dev> for its counters (statistics/), bridge options (bridge/) and ports (brif/). `forward_delay`
 * is in centiseconds, as sysfs and LXD report it.
 */
export async function readBridgeState(device: string): Promise<BridgeState> {
  const { stdout } = await ip(['-j', 'addr', 'show', 'dev', device]).catch(() => {
    throw new NetworkNotFoundError(device);
  });
  const [link] = JSON.parse(stdout) as IpAddr[];
  if (!link) throw new NetworkNotFoundError(device);
  return {
    addresses: link.addr_info
      .filter((a) => a.family === 'inet' || a.family === 'inet6')
      .map((a) => ({ family: a.family as 'inet' | 'inet6', address: a.local, netmask: String(a.prefixlen), scope: a.scope === 'host' ? 'local' : a.scope })),
    counters: {
      bytes_received: await counter(device, 'rx_bytes'),
      bytes_sent: await counter(device, 'tx_bytes'),
      packets_received: await counter(device, 'rx_packets'),
      packets_sent: await counter(device, 'tx_packets'),
    },
    hwaddr: link.address ?? '',
    mtu: link.mtu,
    state: link.flags?.includes('UP') ? 'up' : 'down',
    type: 'broadcast',
    bridge: {
      id: await sysfs(device, 'bridge/bridge_id'),
      stp: (await sysfs(device, 'bridge/stp_state')) === '1',
      forward_delay: Number(await sysfs(device, 'bridge/forward_delay')) || 0,
      vlan_default: Number(await sysfs(device, 'bridge/default_pvid')) || 0,
      vlan_filtering: (await sysfs(device, 'bridge/vlan_filtering')) === '1',
      upper_devices: (await readdir(join('/sys/class/net', device, 'brif')).catch(() => [] as string[])).sort(),
    },
  };
}
