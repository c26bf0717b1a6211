/** Storage pools and volumes: btrfs loop pools with copy-on-write instance volumes, and a dir fallback. */

/** NestJS module: the pools of the daemon's BERTH_DIR, and its default pool. */
export { StorageModule } from './storage.module.js';
/** The daemon's default pool, opened on first use. */
export { DefaultPool } from './default-pool.js';
/** A volume of a pool, as the pool's driver lists it. */
export type { VolumeInfo } from './domain/storage-driver.js';
/** Typed errors with stable STORAGE.* codes. */
export { StorageNoSpaceError, StorageRollbackIncompleteError } from './domain/storage.errors.js';
/** The pools a client can name (Berth's one, `default`), for checks such as a root disk's `pool`. */
export { PoolCatalog } from './infrastructure/pool-catalog.js';
/** Asked by storage, answered by instances: the names of the instances (each owns a root volume). */
export { ListVolumeOwnersQuery } from './domain/volume-owners.js';
export { isVolumeType, type StoragePoolView, type StorageVolumeView, type VolumeType } from './domain/pool-view.js';
export { poolEtag } from './domain/pool-view.js';
export { ListStoragePoolsQuery } from './queries/list-storage-pools/list-storage-pools.query.js';
export { GetStoragePoolQuery } from './queries/get-storage-pool/get-storage-pool.query.js';
export { GetStoragePoolResourcesQuery } from './queries/get-storage-pool-resources/get-storage-pool-resources.query.js';
export { ListStorageVolumesQuery } from './queries/list-storage-volumes/list-storage-volumes.query.js';
export { GetStorageVolumeQuery } from './queries/get-storage-volume/get-storage-volume.query.js';
export { GetStorageVolumeStateQuery } from './queries/get-storage-volume-state/get-storage-volume-state.query.js';
export { UpdateStoragePoolCommand } from './commands/update-storage-pool/update-storage-pool.command.js';
export { CreateStoragePoolCommand } from './commands/create-storage-pool/create-storage-pool.command.js';
export { DeleteStoragePoolCommand } from './commands/delete-storage-pool/delete-storage-pool.command.js';
export { ChangeStorageVolumeCommand } from './commands/change-storage-volume/change-storage-volume.command.js';
