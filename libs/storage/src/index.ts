/** Storage pools and volumes: btrfs loop pools with copy-on-write instance volumes, and a dir fallback. */

/** The driver contract (one object per pool), its capabilities, volume listing and usage. */
export type { DriverName, DriverCapabilities, StorageDriver, VolumeInfo, PoolUsage, BackingDevice } from './domain/storage-driver.js';
/** The block device under a path, from the mount table (whole disk, as I/O throttles want it). */
export { backingDevice } from './infrastructure/block-device.js';
/** Where a pool and its volumes live under BERTH_DIR. */
export { PoolLayout } from './domain/pool-layout.js';
/** LXD's default loop file size rule and the minimum a btrfs pool accepts. */
export { poolSizeBytes, DEFAULT_POOL_SIZE, MIN_POOL_SIZE_BYTES } from './domain/pool-size.js';
/** Typed errors with stable STORAGE.* codes; those caused by a host tool carry its command line and stderr. */
export {
  StorageError,
  InvalidStorageNameError,
  InvalidPoolSizeError,
  StoragePoolExistsError,
  StoragePoolNotFoundError,
  StoragePoolUnavailableError,
  StoragePoolInUseError,
  StorageVolumeExistsError,
  StorageVolumeNotFoundError,
  StorageVolumeBusyError,
  StorageNoSpaceError,
  StorageOperationFailedError,
  StorageRollbackIncompleteError,
  type CommandFailureDetails,
} from './domain/storage.errors.js';
/** btrfs subvolumes and snapshots on a sparse loop file (the default where it works). */
export { BtrfsDriver, type BtrfsPoolOptions } from './infrastructure/btrfs-driver.js';
/** Plain directories and full copies (the fallback). */
export { DirDriver } from './infrastructure/dir-driver.js';
/** Probes whether btrfs on a loop file works on this host, and says why not. */
export { chooseDriver, type DriverChoice } from './infrastructure/driver-probe.js';
/** How drivers run host tools (argument arrays, no shell); a custom runner can inject failures. */
export { runCommand, CommandFailure, type CommandRunner, type CommandOutput } from './infrastructure/command-runner.js';
/** The pools of one BERTH_DIR: open (create or re-mount) at daemon start, then get by name. */
export { StoragePools, type PoolOptions, type OpenedPool } from './storage-pools.js';
/** NestJS module exporting StoragePools for the daemon's BERTH_DIR. */
export { StorageModule } from './storage.module.js';
/** The daemon's default pool, opened on first use. */
export { DefaultPool } from './default-pool.js';
