import { Module } from '@nestjs/common';
import { BERTH_CONFIG, type BerthConfig } from '#core';
import { DefaultPool } from './default-pool.js';
import { StoragePools } from './storage-pools.js';

/** Provides the StoragePools of the daemon's BERTH_DIR and its default pool. */
@Module({
  providers: [{ provide: StoragePools, useFactory: (config: BerthConfig) => new StoragePools(config.BERTH_DIR), inject: [BERTH_CONFIG] }, DefaultPool],
  exports: [StoragePools, DefaultPool],
})
export class StorageModule {}
