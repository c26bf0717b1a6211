import { parseIpv4 } from './ipv4.js';

/** One DHCPv4 lease as dnsmasq records it. */
export interface Lease {
  /** When the lease ends; null for an infinite lease. */
  readonly expiresAt: Date | null;
  readonly mac: string;
  readonly ipv4: string;
  /** The name dnsmasq gave the host (from a reservation or the client's request), if any. */
  readonly hostname: string | null;
  readonly clientId: string | null;
}

/**
 * Parses dnsmasq's lease file: one line per lease, `<expiry> <mac> <ip> <name|*> <client-id|*>`.
 * IPv6 leases (after a `duid` line) and lines that do not parse are skipped: the file is rewritten
 * by dnsmasq at any time, so a torn read must not fail a listing.
 */
export function parseLeases(text: string): Lease[] {
  const leases: Lease[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'duid') break;
    if (fields.length < 5 || !/^\d+$/.test(fields[0]!)) continue;
    const [expiry, mac, ip, name, clientId] = fields as [string, string, string, string, string];
    try {
      parseIpv4('lease', ip);
    } catch {
      continue;
    }
    const seconds = Number(expiry);
    leases.push({
      expiresAt: seconds === 0 ? null : new Date(seconds * 1000),
      mac: mac.toLowerCase(),
      ipv4: ip,
      hostname: name === '*' ? null : name,
      clientId: clientId === '*' ? null : clientId,
    });
  }
  return leases;
}
