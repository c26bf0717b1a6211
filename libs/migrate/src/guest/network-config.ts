/** What the network fix-ups share: the facts read from each configuration system. */

export type NetworkConfigKind = 'ifupdown' | 'netplan' | 'networkd' | 'NetworkManager' | 'none';

/** A network interface as the guest configures it. */
export interface GuestInterface {
  /** The kernel name it is bound to (`ens3`), or `mac:52:54:00:…` when matched by address only. */
  name: string;
  config: Exclude<NetworkConfigKind, 'none'>;
  /** The guest path of the file that configures it. */
  file: string;
  method: 'static' | 'dhcp' | 'manual' | 'other';
  /** IPv4 addresses with prefix length, e.g. `192.168.122.50/24`. */
  addresses: string[];
  gateway?: string;
}

/** One change a rewriter made in a file. */
export interface NetworkEdit {
  action: 'rewritten' | 'commented';
  detail: string;
}

export interface ConfigRewrite {
  text: string;
  edits: NetworkEdit[];
  warnings: string[];
}

/** The one interface Berth gives a container. */
export const CONTAINER_INTERFACE = 'eth0';

/**
 * The VM's primary interface: the first one with an address or DHCP (files in the order they
 * are read), else the first one at all.
 */
export function primaryInterface(interfaces: GuestInterface[]): GuestInterface | undefined {
  return interfaces.find((i) => i.method === 'static' || i.method === 'dhcp') ?? interfaces[0];
}

/** True when nothing is left to change: the interface is eth0 and takes DHCP. */
export function alreadyContainerReady(iface: GuestInterface): boolean {
  return iface.name === CONTAINER_INTERFACE && iface.method === 'dhcp';
}
