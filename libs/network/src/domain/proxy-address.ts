import { isIPv6 } from 'node:net';
import { ValidationError } from '#core';
import { parseIpv4 } from './ipv4.js';

/** One side of a proxy device, as in LXD's `listen=` and `connect=`. */
export type ProxyAddress =
  | { readonly protocol: 'tcp' | 'udp'; readonly host: string; readonly family: 4 | 6; readonly ports: readonly number[] }
  | { readonly protocol: 'unix'; readonly path: string };

function parsePort(field: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new ValidationError(field, `"${text}" is not a port number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new ValidationError(field, `port ${port} is outside 1-65535`);
  return port;
}

/** `80`, `8000-8010` or a comma-separated mix of both, expanded in order, without repeats. */
function parsePorts(field: string, text: string): number[] {
  const ports: number[] = [];
  for (const part of text.split(',')) {
    const [first, last, ...rest] = part.split('-');
    if (rest.length > 0) throw new ValidationError(field, `"${part}" is not a port or a port range`);
    const from = parsePort(field, first!);
    const to = last === undefined ? from : parsePort(field, last);
    if (to < from) throw new ValidationError(field, `port range ${part} ends before it starts`);
    for (let p = from; p <= to; p++) ports.push(p);
  }
  if (new Set(ports).size !== ports.length) throw new ValidationError(field, 'a port is listed twice');
  return ports;
}

/**
 * Parses a proxy address: `tcp:0.0.0.0:8080`, `udp:127.0.0.1:53`, `tcp:0.0.0.0:8000-8010`,
 * `tcp:[::1]:80` or `unix:/run/app.sock` (`unix:@name` for the abstract namespace).
 */
export function parseProxyAddress(field: string, text: string): ProxyAddress {
  const colon = text.indexOf(':');
  const protocol = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (colon < 0 || !['tcp', 'udp', 'unix'].includes(protocol)) {
    throw new ValidationError(field, `"${text}" must start with tcp:, udp: or unix:`);
  }
  if (protocol === 'unix') {
    if (!(rest.startsWith('/') || (rest.startsWith('@') && rest.length > 1)) || rest.includes('\u0000')) {
      throw new ValidationError(field, 'a unix address must be an absolute path or @abstract-name');
    }
    return { protocol, path: rest };
  }
  const ipv6 = /^\[([^\]]+)\]:(.+)$/.exec(rest);
  if (ipv6) {
    if (!isIPv6(ipv6[1]!)) throw new ValidationError(field, `"${ipv6[1]}" is not an IPv6 address`);
    return { protocol: protocol as 'tcp' | 'udp', host: ipv6[1]!, family: 6, ports: parsePorts(field, ipv6[2]!) };
  }
  const parts = rest.split(':');
  if (parts.length !== 2) throw new ValidationError(field, `"${text}" must be ${protocol}:<address>:<port> (IPv6 in brackets)`);
  parseIpv4(field, parts[0]!);
  return { protocol: protocol as 'tcp' | 'udp', host: parts[0]!, family: 4, ports: parsePorts(field, parts[1]!) };
}

/**
 * LXD's rule for a pair: `connect` names one port (every listen port goes to it) or as many
 * ports as `listen`, in order; both sides speak the same protocol unless one is a unix socket.
 */
export function checkProxyPair(listen: ProxyAddress, connect: ProxyAddress, field = 'device["connect"]'): void {
  if (listen.protocol !== 'unix' && connect.protocol !== 'unix') {
    if (listen.protocol !== connect.protocol) throw new ValidationError(field, `cannot relay ${listen.protocol} to ${connect.protocol}`);
    if (connect.ports.length !== 1 && connect.ports.length !== listen.ports.length) {
      throw new ValidationError(field, `must name one port or ${listen.ports.length} ports to match listen`);
    }
  }
}
