import { ValidationError } from '#core';

/* A Map, not an object: a unit such as `valueOf` or `constructor` must not find Object.prototype. */
const UNITS: ReadonlyMap<string, bigint> = new Map(Object.entries({
  '': 1n,
  B: 1n,
  kB: 1000n,
  MB: 1000n ** 2n,
  GB: 1000n ** 3n,
  TB: 1000n ** 4n,
  PB: 1000n ** 5n,
  EB: 1000n ** 6n,
  KiB: 1024n,
  MiB: 1024n ** 2n,
  GiB: 1024n ** 3n,
  TiB: 1024n ** 4n,
  PiB: 1024n ** 5n,
  EiB: 1024n ** 6n,
}));

/** Largest value a cgroup file takes as a limit (int64). */
export const MAX_BYTES = 2n ** 63n - 1n;

/**
 * Parses a byte size with LXD's suffixes (decimal kB..EB, binary KiB..EiB, or none for bytes).
 * One decimal point is allowed (`1.5GiB`); the result is whole bytes, rounded down.
 */
export function parseBytes(field: string, text: string): bigint {
  const m = /^(\d{1,20})(?:\.(\d{1,9}))?\s?([A-Za-z]*)$/.exec(text);
  if (!m) throw new ValidationError(field, `"${text}" is not a byte size (examples: 512MiB, 2GB, 1073741824)`);
  const [, whole, fraction = '', unit] = m;
  const multiplier = UNITS.get(unit);
  if (multiplier === undefined) throw new ValidationError(field, `unknown unit "${unit}" (use B, kB, MB, GB, TB, PB, EB, KiB, MiB, GiB, TiB, PiB or EiB)`);
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(whole) * scale + BigInt(fraction || '0')) * multiplier / scale;
  if (bytes > MAX_BYTES) throw new ValidationError(field, `"${text}" is too large`);
  return bytes;
}
