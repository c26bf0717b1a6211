import { randomBytes } from 'node:crypto';
import { ValidationError } from '#core';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Parses a unicast Ethernet address (`00:16:3e:12:34:56`, either case; also `-` as separator) and
 * returns it lower-case with colons, the form `ip` and dnsmasq print.
 */
export function parseMac(field: string, text: string): string {
  const mac = text.trim().toLowerCase().replaceAll('-', ':');
  if (!MAC.test(mac)) throw new ValidationError(field, `"${text}" is not a MAC address like 00:16:3e:12:34:56`);
  if (mac === '00:00:00:00:00:00') throw new ValidationError(field, 'the all-zeros address is not a valid interface address');
  // The I/G bit: a multicast (or broadcast) address cannot be an interface's own.
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new ValidationError(field, `${mac} is a multicast address`);
  return mac;
}

/** LXD's prefix for generated addresses (the Xen OUI), so Berth's nics look like LXD's. */
const OUI = '00:16:3e';

/** A random unicast MAC under LXD's prefix, for `volatile.<dev>.hwaddr` when none is given. */
export function generateMac(random: (size: number) => Buffer = randomBytes): string {
  const tail = [...random(3)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return `${OUI}:${tail}`;
}
