import { realpath, readFile, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { BackingDevice } from '../domain/storage-driver.js';
import { readMounts, type MountEntry } from './mount-table.js';

const within = (path: string, mountPoint: string) => mountPoint === sep || path === mountPoint || path.startsWith(mountPoint + sep);

/** The mount holding `path`: the longest mount point containing it, the last one stacked there. */
export function mountHolding(mounts: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) if (within(path, m.mountPoint) && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  return best;
}

/** `MAJ:MIN` of the whole disk a partition belongs to (sysfs puts partitions below their disk). */
async function wholeDisk(major: number, minor: number, sysfs: string): Promise<{ major: number; minor: number }> {
  const entry = join(sysfs, 'dev', 'block', `${major}:${minor}`);
  try {
    await stat(join(entry, 'partition'));
  } catch {
    return { major, minor };
  }
  const [maj, min] = (await readFile(join(dirname(await realpath(entry)), 'dev'), 'utf8')).trim().split(':').map(Number);
  return { major: maj, minor: min };
}

/**
 * Finds the block device under `path` from the mount table: the source of the mount holding it
 * (a btrfs pool's loop device, or the host disk of a dir pool), mapped to its whole disk.
 */
export async function backingDevice(path: string, options: { mountinfo?: string; sysfs?: string } = {}): Promise<BackingDevice> {
  const resolved = await realpath(path);
  const mount = mountHolding(await readMounts(options.mountinfo), resolved);
  if (!mount) return { kind: 'none', reason: `no mount holds ${resolved}` };
  const what = `${resolved} is on ${mount.fsType} (${mount.source}) mounted at ${mount.mountPoint}`;
  if (!mount.source.startsWith('/')) return { kind: 'none', reason: `${what}, which has no block device` };
  let info;
  try {
    info = await stat(mount.source, { bigint: true });
  } catch {
    return { kind: 'none', reason: `${what}, and ${mount.source} cannot be found` };
  }
  if (!info.isBlockDevice()) return { kind: 'none', reason: `${what}, and ${mount.source} is not a block device` };
  // glibc's dev_t layout (see makedev(3)): major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31.
  const major = Number(((info.rdev >> 8n) & 0xfffn) | ((info.rdev >> 32n) & ~0xfffn));
  const minor = Number((info.rdev & 0xffn) | ((info.rdev >> 12n) & ~0xffn));
  return { kind: 'device', ...(await wholeDisk(major, minor, options.sysfs ?? '/sys')), source: mount.source };
}
