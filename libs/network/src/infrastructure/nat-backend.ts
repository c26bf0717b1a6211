import type { Subnet } from '../domain/ipv4.js';

/** Masquerading for one network's subnet, in a table of its own. */
export interface NatBackend {
  readonly kind: 'nftables' | 'iptables';
  /** Sets the network's rules, replacing any it had (so it also repairs them). */
  install(network: string, subnet: Subnet): Promise<void>;
  /** Removes the network's rules; succeeds when there were none. */
  remove(network: string): Promise<void>;
  exists(network: string): Promise<boolean>;
}
