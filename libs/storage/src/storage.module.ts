import { Module } from '@nestjs/common';
import { BERTH_CONFIG, type BerthConfig } from '#core';
import { ChangeStorageVolumeHandler } from './commands/change-storage-volume/change-storage-volume.handler.js';
import { CreateStoragePoolHandler } from './commands/create-storage-pool/create-storage-pool.handler.js';
import { DeleteStoragePoolHandler } from './commands/delete-storage-pool/delete-storage-pool.handler.js';
import { UpdateStoragePoolHandler } from './commands/update-storage-pool/update-storage-pool.handler.js';
import { DefaultPool } from './default-pool.js';
import { StorageLifecycleHandler } from './events/storage-lifecycle.handler.js';
import { PoolCatalog } from './infrastructure/pool-catalog.js';
import { StoragePoolRecord } from './infrastructure/storage-pool.entity.js';
import { StoragePoolRepository } from './infrastructure/storage-pool.repository.js';
import { GetStoragePoolHandler } from './queries/get-storage-pool/get-storage-pool.handler.js';
import { GetStoragePoolResourcesHandler } from './queries/get-storage-pool-resources/get-storage-pool-resources.handler.js';
import { GetStorageVolumeHandler } from './queries/get-storage-volume/get-storage-volume.handler.js';
import { GetStorageVolumeStateHandler } from './queries/get-storage-volume-state/get-storage-volume-state.handler.js';
import { ListStoragePoolsHandler } from './queries/list-storage-pools/list-storage-pools.handler.js';
import { ListStorageVolumesHandler } from './queries/list-storage-volumes/list-storage-volumes.handler.js';
import { PoolViews } from './queries/pool-views.js';
import { StoragePools } from './storage-pools.js';

/** Provides the StoragePools of the daemon's BERTH_DIR, its default pool, and the storage pools API's handlers. */
@Module({
  providers: [
    { provide: StoragePools, useFactory: (config: BerthConfig) => new StoragePools(config.BERTH_DIR), inject: [BERTH_CONFIG] },
    DefaultPool,
    PoolCatalog,
    StoragePoolRepository,
    PoolViews,
    ListStoragePoolsHandler,
    GetStoragePoolHandler,
    GetStoragePoolResourcesHandler,
    ListStorageVolumesHandler,
    GetStorageVolumeHandler,
    GetStorageVolumeStateHandler,
    UpdateStoragePoolHandler,
    CreateStoragePoolHandler,
    DeleteStoragePoolHandler,
    ChangeStorageVolumeHandler,
    StorageLifecycleHandler,
  ],
  exports: [StoragePools, DefaultPool, PoolCatalog],
})
export class StorageModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [StoragePoolRecord];
}
