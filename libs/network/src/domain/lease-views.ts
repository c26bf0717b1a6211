import type { Lease } from './leases.js';

/** LXD's api.NetworkLease. */
export interface LeaseView {
  hostname: string;
  hwaddr: string;
  address: string;
  type: 'static' | 'dynamic';
  location: string;
}

/** The member a lease is on: LXD's name for a server that is not clustered. */
const LOCATION = 'none';

/**
 * A bridge's leases as LXD lists them: the static reservations (dnsmasq host lines
 * `<mac>,<ipv4>,<name>`; a line without an address only names a host), then dnsmasq's dynamic
 * leases, leaving out those a static entry already shows (same MAC and address). LXD also lists
 * the gateway as a lease of type `gateway`; Berth's listing keeps to the instances' leases.
 */
export function leaseViews(hostLines: readonly string[], dynamic: readonly Lease[]): LeaseView[] {
  const views: LeaseView[] = [];
  for (const line of hostLines) {
    const [mac, address, hostname] = line.split(',');
    if (mac === undefined || address === undefined || hostname === undefined) continue;
    views.push({ hostname, hwaddr: mac.toLowerCase(), address, type: 'static', location: LOCATION });
  }
  for (const lease of dynamic) {
    if (views.some((v) => v.type === 'static' && v.hwaddr === lease.mac && v.address === lease.ipv4)) continue;
    views.push({ hostname: lease.hostname ?? '', hwaddr: lease.mac, address: lease.ipv4, type: 'dynamic', location: LOCATION });
  }
  return views;
}
