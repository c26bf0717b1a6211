import { ValidationError } from '#core';

// LXD's ParseBitSizeString: an integer with a case-sensitive suffix, decimal or binary multiples.
// A Map, not an object: a unit such as `valueOf` must not find Object.prototype.
const MULTIPLIERS: ReadonlyMap<string, number> = new Map(Object.entries({
  '': 1,
  bit: 1,
  kbit: 1e3,
  Mbit: 1e6,
  Gbit: 1e9,
  Tbit: 1e12,
  Pbit: 1e15,
  Kibit: 2 ** 10,
  Mibit: 2 ** 20,
  Gibit: 2 ** 30,
  Tibit: 2 ** 40,
  Pibit: 2 ** 50,
}));

/** Parses a bit rate in LXD's units (`10Mbit`, `1Gbit`, `100kbit`, `2Mibit`, `1000`) into bit/s. */
export function parseBitRate(field: string, text: string): number {
  const match = /^(\d+)([A-Za-z]*)$/.exec(text.trim());
  if (!match) throw new ValidationError(field, `"${text}" is not a bit rate like 10Mbit`);
  const multiplier = MULTIPLIERS.get(match[2]!);
  if (multiplier === undefined) {
    throw new ValidationError(field, `unknown unit "${match[2]}" (use bit, kbit, Mbit, Gbit, Tbit, Pbit or Kibit, Mibit, Gibit, Tibit, Pibit)`);
  }
  const rate = Number(match[1]) * multiplier;
  if (!Number.isSafeInteger(rate)) throw new ValidationError(field, `${text} is too large`);
  if (rate === 0) throw new ValidationError(field, 'must be greater than zero (unset the key to remove the limit)');
  return rate;
}

/** The rates applied to one nic, seen from the container: what it may receive and send. */
export interface NicLimits {
  /** bit/s the container may receive; shaped on the host end's egress. */
  readonly ingress?: number;
  /** bit/s the container may send; shaped after the host end's ingress (through an ifb device). */
  readonly egress?: number;
}

/**
 * Reads `limits.ingress`, `limits.egress` and `limits.max` from a nic device's config. As in LXD,
 * `limits.max` sets both directions and takes precedence over the other two.
 */
export function parseNicLimits(device: Readonly<Record<string, string | undefined>>, fieldPrefix = 'device'): NicLimits {
  const read = (key: string) => {
    const value = device[key];
    return value === undefined || value === '' ? undefined : parseBitRate(`${fieldPrefix}["${key}"]`, value);
  };
  const max = read('limits.max');
  const ingress = read('limits.ingress');
  const egress = read('limits.egress');
  return dropUndefined({ ingress: max ?? ingress, egress: max ?? egress });
}

function dropUndefined(limits: { ingress?: number; egress?: number }): NicLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}
