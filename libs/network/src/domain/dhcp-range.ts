import { ValidationError } from '#core';
import { broadcastOf, formatIpv4, formatSubnet, parseIpv4, subnetContains, type InterfaceAddress, type Ipv4 } from './ipv4.js';

/** An inclusive range of addresses handed out by DHCP. */
export interface DhcpRange {
  readonly start: Ipv4;
  readonly end: Ipv4;
}

export function formatDhcpRange(range: DhcpRange): string {
  return `${formatIpv4(range.start)}-${formatIpv4(range.end)}`;
}

/**
 * Parses `ipv4.dhcp.ranges`: comma-separated `first-last` ranges (LXD's syntax), each inside the
 * gateway's subnet and clear of its network and broadcast addresses, none overlapping another.
 */
export function parseDhcpRanges(field: string, text: string, gateway: InterfaceAddress): DhcpRange[] {
  const { subnet } = gateway;
  const ranges = text.split(',').map((part) => {
    const bounds = part.trim().split('-');
    if (bounds.length !== 2) throw new ValidationError(field, `"${part}" is not a range like 10.0.0.100-10.0.0.200`);
    const [start, end] = bounds.map((b) => parseIpv4(field, b.trim())) as [Ipv4, Ipv4];
    if (start > end) throw new ValidationError(field, `range ${part} ends before it starts`);
    for (const address of [start, end]) {
      if (!subnetContains(subnet, address)) throw new ValidationError(field, `${formatIpv4(address)} is outside ${formatSubnet(subnet)}`);
    }
    if (start === subnet.network || end === broadcastOf(subnet)) {
      throw new ValidationError(field, `range ${part} includes the network or broadcast address of ${formatSubnet(subnet)}`);
    }
    return { start, end };
  });
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.start <= sorted[i - 1]!.end) {
      throw new ValidationError(field, `ranges ${formatDhcpRange(sorted[i - 1]!)} and ${formatDhcpRange(sorted[i]!)} overlap`);
    }
  }
  return ranges;
}

/** LXD's default: every host address of the subnet except the gateway's own. */
export function defaultDhcpRanges(gateway: InterfaceAddress): DhcpRange[] {
  const first = gateway.subnet.network + 1;
  const last = broadcastOf(gateway.subnet) - 1;
  const ranges: DhcpRange[] = [];
  if (gateway.address > first) ranges.push({ start: first, end: gateway.address - 1 });
  if (gateway.address < last) ranges.push({ start: gateway.address + 1, end: last });
  return ranges;
}
