import { ValidationError } from '#core';

/** An IPv4 address as an unsigned 32-bit integer, so that subnet arithmetic is plain arithmetic. */
export type Ipv4 = number;

/** A network: its first address and prefix length (host bits are always zero). */
export interface Subnet {
  readonly network: Ipv4;
  readonly prefix: number;
}

/** An address with the prefix of the subnet it sits in, as in `ipv4.address=10.0.0.1/24`. */
export interface InterfaceAddress {
  readonly address: Ipv4;
  readonly subnet: Subnet;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

function readIpv4(text: string): Ipv4 | string {
  const parts = text.split('.');
  if (parts.length !== 4) return 'must be four dot-separated numbers';
  let value = 0;
  for (const part of parts) {
    // Leading zeros are refused: inet_aton reads them as octal, so "010" would mean 8 to some tools.
    if (!OCTET.test(part)) return `"${part}" is not a decimal octet`;
    const octet = Number(part);
    if (octet > 255) return `octet ${octet} is greater than 255`;
    value = value * 256 + octet;
  }
  return value;
}

function readPrefix(text: string | undefined): number | string {
  if (text === undefined) return 'a prefix length is required (e.g. /24)';
  if (!/^\d{1,2}$/.test(text)) return `"/${text}" is not a prefix length`;
  const prefix = Number(text);
  if (prefix > 32) return `prefix length /${prefix} is greater than /32`;
  return prefix;
}

/** Parses a dotted-quad IPv4 address; `field` names the input in the error. */
export function parseIpv4(field: string, text: string): Ipv4 {
  const result = readIpv4(text);
  if (typeof result === 'string') throw new ValidationError(field, result);
  return result;
}

export function formatIpv4(address: Ipv4): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
}

export function netmask(prefix: number): Ipv4 {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function broadcastOf(subnet: Subnet): Ipv4 {
  return (subnet.network | ~netmask(subnet.prefix)) >>> 0;
}

export function subnetOf(address: Ipv4, prefix: number): Subnet {
  return { network: (address & netmask(prefix)) >>> 0, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatIpv4(subnet.network)}/${subnet.prefix}`;
}

export function formatInterfaceAddress(address: InterfaceAddress): string {
  return `${formatIpv4(address.address)}/${address.subnet.prefix}`;
}

export function subnetContains(subnet: Subnet, address: Ipv4): boolean {
  return (address & netmask(subnet.prefix)) >>> 0 === subnet.network;
}

/** Two prefixes overlap exactly when the shorter one contains the other's first address. */
export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  const shorter = a.prefix <= b.prefix ? a : b;
  const longer = shorter === a ? b : a;
  return subnetContains(shorter, longer.network);
}

function split(field: string, text: string): [Ipv4, number] {
  const [addressText, prefixText, ...rest] = text.split('/');
  if (rest.length > 0) throw new ValidationError(field, 'must be an address and one prefix length, e.g. 10.0.0.0/24');
  const address = readIpv4(addressText!);
  if (typeof address === 'string') throw new ValidationError(field, address);
  const prefix = readPrefix(prefixText);
  if (typeof prefix === 'string') throw new ValidationError(field, prefix);
  return [address, prefix];
}

/**
 * Parses a network in CIDR form (`10.0.0.0/24`). Host bits must be zero: `10.0.0.1/24` is an
 * address, and taking it for its network would hide a typo.
 */
export function parseSubnet(field: string, text: string): Subnet {
  const [address, prefix] = split(field, text);
  const subnet = subnetOf(address, prefix);
  if (subnet.network !== address) {
    throw new ValidationError(field, `host bits are set (the network is ${formatSubnet(subnet)})`);
  }
  return subnet;
}

/**
 * Parses an interface address with its prefix (`10.0.0.1/24`), as a bridge's gateway. The address
 * must be usable by a host: not the network or broadcast address, and the subnet must leave room
 * for at least one other host (prefix at most /30).
 */
export function parseInterfaceAddress(field: string, text: string): InterfaceAddress {
  const [address, prefix] = split(field, text);
  if (prefix > 30) throw new ValidationError(field, `a /${prefix} leaves no room for other hosts (use at most /30)`);
  const subnet = subnetOf(address, prefix);
  if (address === subnet.network) throw new ValidationError(field, `${formatIpv4(address)} is the network address of ${formatSubnet(subnet)}`);
  if (address === broadcastOf(subnet)) throw new ValidationError(field, `${formatIpv4(address)} is the broadcast address of ${formatSubnet(subnet)}`);
  return { address, subnet };
}
