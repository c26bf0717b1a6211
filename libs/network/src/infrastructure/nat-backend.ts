import type { Subnet } from '../domain/ipv4.js';
import type { PortForward } from '../domain/port-forward.js';

/** Masquerading for one network's subnet, and port forwards of proxy devices in nat mode, each in a table of its own. */
export interface NatBackend {
  readonly kind: 'nftables' | 'iptables';
  /** Sets the network's rules, replacing any it had (so it also repairs them). */
  install(network: string, subnet: Subnet): Promise<void>;
  /** Removes the network's rules; succeeds when there were none. */
  remove(network: string): Promise<void>;
  exists(network: string): Promise<boolean>;
  /** Sets the DNAT (and hairpin, loopback) rules of one forward, replacing any it had. */
  installForward(id: string, forward: PortForward): Promise<void>;
  /** Removes the forward's rules; succeeds when there were none. */
  removeForward(id: string): Promise<void>;
  forwardExists(id: string): Promise<boolean>;
  /** How many forwards drop 127.0.0.0/8 arriving on `bridge`: route_localnet may be on there only while one does. */
  localnetGuards(bridge: string): Promise<number>;
}
