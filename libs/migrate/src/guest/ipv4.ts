/** IPv4 arithmetic for addresses the guest had and the network Berth gives it. */

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** `a.b.c.d/n` → its address and prefix length, or undefined. */
export function parseCidr(text: string): { address: number; prefix: number } | undefined {
  const [ip, len, ...rest] = text.split('/');
  const address = parseIpv4(ip ?? '');
  const prefix = Number(len);
  if (rest.length > 0 || address === undefined || !/^[0-9]{1,2}$/.test(len ?? '') || prefix > 32) return undefined;
  return { address, prefix };
}

/** A dotted netmask (255.255.255.0) or a prefix length ("24") → the prefix length. */
export function netmaskPrefix(text: string): number | undefined {
  if (/^[0-9]{1,2}$/.test(text)) return Number(text) <= 32 ? Number(text) : undefined;
  const mask = parseIpv4(text);
  if (mask === undefined) return undefined;
  const bits = mask.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/**
 * The address to reserve on Berth's network for the one the guest had (`a.b.c.d/n`): the same
 * address when it is a host address of `subnet` other than `gateway`, else undefined.
 */
export function reservationFor(staticAddress: string, subnet: string, gateway: string): string | undefined {
  const had = parseCidr(staticAddress);
  const net = parseCidr(subnet);
  if (!had || !net) return undefined;
  const size = 2 ** (32 - net.prefix);
  const base = net.address - (net.address % size);
  const offset = had.address - base;
  if (offset <= 0 || offset >= size - 1) return undefined;
  const address = formatIpv4(had.address);
  return address === gateway ? undefined : address;
}
