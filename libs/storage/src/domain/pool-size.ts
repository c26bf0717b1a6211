import { InvalidPoolSizeError } from './storage.errors.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** LXD's rule for a loop-backed pool of unspecified size: 20% of the free space, at least 5 GiB, at most 30 GiB. */
export const DEFAULT_POOL_SIZE = { fractionOfFree: 0.2, floorBytes: 5 * GiB, capBytes: 30 * GiB } as const;

/** mkfs.btrfs refuses devices below ~114 MiB; leave room for metadata on top. */
export const MIN_POOL_SIZE_BYTES = 256 * MiB;

/** The loop file's size: the requested one, or the default computed from the host's free space, in whole MiB. */
export function poolSizeBytes(requested: number | undefined, freeBytes: number, rule = DEFAULT_POOL_SIZE): number {
  if (requested !== undefined) {
    if (!Number.isSafeInteger(requested) || requested < MIN_POOL_SIZE_BYTES) {
      throw new InvalidPoolSizeError(`Invalid pool size ${requested}: must be a whole number of bytes, at least ${MIN_POOL_SIZE_BYTES}`, undefined, {
        size: requested,
      });
    }
    return roundDownToMiB(requested);
  }
  const wanted = Math.min(Math.max(freeBytes * rule.fractionOfFree, rule.floorBytes), rule.capBytes);
  return roundDownToMiB(wanted);
}

function roundDownToMiB(bytes: number): number {
  return Math.floor(bytes / MiB) * MiB;
}
