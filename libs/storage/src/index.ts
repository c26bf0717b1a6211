/** Storage pools and volumes: btrfs loop pools with copy-on-write instance volumes, and a dir fallback. */

/** NestJS module: the pools of the daemon's BERTH_DIR, and its default pool. */
export { StorageModule } from './storage.module.js';
/** The daemon's default pool, opened on first use. */
export { DefaultPool } from './default-pool.js';
/** A volume of a pool, as the pool's driver lists it. */
export type { VolumeInfo } from './domain/storage-driver.js';
/** Typed errors with stable STORAGE.* codes. */
export { StorageNoSpaceError, StorageRollbackIncompleteError } from './domain/storage.errors.js';
