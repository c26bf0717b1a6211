import { ValidationError } from '#core';
import { parseBytes } from './bytes.js';

/** One direction's I/O limit on a disk: bytes per second, or operations per second (`100iops`). */
export type IoRate = { kind: 'bytes'; perSecond: bigint } | { kind: 'iops'; perSecond: number };

/** The I/O limits of an instance's root disk, as its `limits.read`, `limits.write` and `limits.max` keys set them. */
export interface DiskIoLimits {
  read?: IoRate;
  write?: IoRate;
}

/** The keys of a disk device that limit its I/O (LXD's names). */
export const DISK_IO_KEYS = ['limits.read', 'limits.write', 'limits.max'] as const;

/** The kernel's throttles take 64-bit counts; iops fit in a 32-bit column. */
const MAX_IOPS = 2 ** 31 - 1;

/** Parses `10MB`, `1.5GiB` (bytes/s with LXD's suffixes) or `100iops`. Zero and negative rates are refused. */
export function parseIoRate(field: string, text: string): IoRate {
  const iops = /^(\d{1,10})\s?iops$/.exec(text);
  if (iops) {
    const n = Number(iops[1]);
    if (n < 1 || n > MAX_IOPS) throw new ValidationError(field, `must be from 1 to ${MAX_IOPS} iops, not ${text}`);
    return { kind: 'iops', perSecond: n };
  }
  if (/iops$/i.test(text)) throw new ValidationError(field, `"${text}" is not a count of operations per second such as 100iops`);
  const bytes = parseBytes(field, text);
  if (bytes < 1n) throw new ValidationError(field, `must be at least 1 byte/s, not ${text} (remove the key for no limit)`);
  return { kind: 'bytes', perSecond: bytes };
}

type Devices = Readonly<Record<string, Readonly<Record<string, string | undefined>>>>;

/**
 * Reads the I/O limits of the root disk (`type=disk`, `path=/`) from a devices map. The limit keys
 * of every disk device are checked, so a bad value is refused wherever it is; only the root disk's
 * are applied (other disks are bind mounts of host paths, not volumes). `limits.max` sets both
 * directions, and a direction's own key takes precedence over it.
 */
export function parseDiskIo(devices: Devices, fieldName = 'devices'): DiskIoLimits {
  let root: DiskIoLimits = {};
  for (const [name, device] of Object.entries(devices)) {
    if (device.type !== 'disk') continue;
    const rate = (k: (typeof DISK_IO_KEYS)[number]) => {
      const text = device[k];
      return text === undefined ? undefined : parseIoRate(`${fieldName}["${name}"]["${k}"]`, text);
    };
    const max = rate('limits.max');
    const read = rate('limits.read') ?? max;
    const write = rate('limits.write') ?? max;
    if (device.path === '/') root = { ...(read && { read }), ...(write && { write }) };
  }
  return root;
}
