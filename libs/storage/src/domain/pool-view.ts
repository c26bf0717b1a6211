import { createHash } from 'node:crypto';
import { PreconditionFailedError, ValidationError } from '#core';
import type { DriverName, VolumeInfo } from './storage-driver.js';

/** A storage pool as LXD's API shows it (`GET /1.0/storage-pools/{name}`). */
export interface StoragePoolView {
  name: string;
  driver: DriverName;
  description: string;
  config: Record<string, string>;
  status: 'Created';
  locations: string[];
  used_by: string[];
}

/** A storage volume as LXD's API shows it. Berth's volumes are instances' roots and unpacked images. */
export interface StorageVolumeView {
  name: string;
  type: VolumeType;
  description: string;
  content_type: 'filesystem';
  config: Record<string, string>;
  used_by: string[];
  location: 'none';
}

/** Berth's own: a volume nothing owns (see OrphanVolumes in instances); `filter=orphan` lists only those. */
export interface PoolVolume extends StorageVolumeView {
  orphan: boolean;
  /** Where the volume is on the host. */
  path: string;
}

/** LXD's volume types; Berth has the first two (no virtual machines, no custom volumes). */
export const VOLUME_TYPES = ['container', 'image', 'virtual-machine', 'custom'] as const;
export type VolumeType = (typeof VOLUME_TYPES)[number];

export function isVolumeType(value: string): value is VolumeType {
  return (VOLUME_TYPES as readonly string[]).includes(value);
}

export const poolUrl = (pool: string) => `/1.0/storage-pools/${encodeURIComponent(pool)}`;
export const volumeUrl = (pool: string, type: VolumeType, name: string) => `${poolUrl(pool)}/volumes/${type}/${encodeURIComponent(name)}`;

/**
 * The volumes of a pool in LXD's shape, sorted by type then name as LXD sorts them. An instance
 * volume is used by its instance, a sealed image volume by its image; one whose owner is gone
 * (or an image volume a crash left half-filled) is an orphan with an empty `used_by`.
 */
export function describeVolumes(volumes: readonly VolumeInfo[], instances: ReadonlySet<string>): PoolVolume[] {
  const described = volumes.map((v): PoolVolume => {
    if (v.kind === 'image') return volume('image', v.fingerprint, v.path, v.sealed ? [`/1.0/images/${v.fingerprint}`] : []);
    return volume('container', v.name, v.path, instances.has(v.name) ? [`/1.0/instances/${encodeURIComponent(v.name)}`] : []);
  });
  return described.sort((a, b) => (a.type !== b.type ? (a.type < b.type ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function volume(type: VolumeType, name: string, path: string, usedBy: string[]): PoolVolume {
  return { name, type, description: '', content_type: 'filesystem', config: {}, used_by: usedBy, location: 'none', orphan: usedBy.length === 0, path };
}

/** The volume as the API answers it: without Berth's `orphan` flag and host path. */
export function volumeView(v: PoolVolume): StorageVolumeView {
  const { name, type, description, content_type, config, used_by, location } = v;
  return { name, type, description, content_type, config, used_by, location };
}

/**
 * What uses a pool, as LXD lists it: each instance and image with a volume on it, each orphaned
 * volume by its own URL (LXD does so for an image volume without its image), and each profile
 * with a disk device on the pool. Sorted, as LXD sorts it.
 */
export function poolUsedBy(pool: string, volumes: readonly PoolVolume[], profiles: readonly { name: string; devices: Record<string, Record<string, string>> }[]): string[] {
  const users = volumes.map((v) => (v.orphan ? volumeUrl(pool, v.type, v.name) : v.used_by[0]));
  for (const p of profiles) {
    if (Object.values(p.devices).some((d) => d.type === 'disk' && d.pool === pool)) users.push(`/1.0/profiles/${encodeURIComponent(p.name)}`);
  }
  return [...new Set(users)].sort();
}

/** A byte count as LXD writes pool sizes (`30GiB`), in the largest binary unit that divides it. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}

/** The pool's keys that its driver sets and Berth cannot change on a live pool. */
export const FIXED_POOL_KEYS = ['source', 'size'] as const;

/**
 * The stored config after an update (PUT replaces, PATCH merges). Only `user.*` keys are the
 * client's; the driver's own keys (`source`, `size`) may be sent back unchanged, as `lxc storage
 * edit` and pylxd's save do, and any change to them, or any other key, is refused naming it. An
 * empty value unsets a user key (what `lxc storage unset` sends).
 */
export function updatedPoolConfig(
  mode: 'replace' | 'merge',
  stored: Readonly<Record<string, string>>,
  fixed: Readonly<Record<string, string>>,
  requested: unknown,
): Record<string, string> {
  if (requested !== undefined && (typeof requested !== 'object' || requested === null || Array.isArray(requested))) {
    throw new ValidationError('config', 'must be an object of string values');
  }
  const next: Record<string, string> = mode === 'merge' ? { ...stored } : {};
  for (const [key, value] of Object.entries((requested ?? {}) as Record<string, unknown>)) {
    const field = `config["${key}"]`;
    if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
    if ((FIXED_POOL_KEYS as readonly string[]).includes(key)) {
      if (value !== fixed[key]) throw new ValidationError(field, `cannot be changed on Berth's pool (it is "${fixed[key] ?? ''}")`);
      continue;
    }
    if (!key.startsWith('user.') || key.length === 'user.'.length) {
      throw new ValidationError(field, 'is not supported: Berth keeps only user.* keys on a pool besides its driver\'s source and size');
    }
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Changes whenever anything a client can edit changes; sent as ETag, checked against If-Match. */
export function poolEtag(pool: Pick<StoragePoolView, 'name' | 'driver' | 'description' | 'config'>): string {
  return createHash('sha256')
    .update(JSON.stringify([pool.name, pool.driver, pool.description, sorted(pool.config)]))
    .digest('hex');
}

/** Refuses (412) a change whose If-Match names none of the pool's current ETag (nor `*`). */
export function assertPoolEtag(pool: Pick<StoragePoolView, 'name' | 'driver' | 'description' | 'config'>, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
  if (!tags.includes('*') && !tags.includes(poolEtag(pool))) {
    throw new PreconditionFailedError(`Storage pool "${pool.name}" was changed since it was read (If-Match does not match the current ETag)`);
  }
}
