import { Module } from '@nestjs/common';
import { BERTH_CONFIG, type BerthConfig } from '#core';
import { StoragePools } from './storage-pools.js';

/** Provides the StoragePools of the daemon's BERTH_DIR; the daemon opens its pools at start. */
@Module({
  providers: [{ provide: StoragePools, useFactory: (config: BerthConfig) => new StoragePools(config.BERTH_DIR), inject: [BERTH_CONFIG] }],
  exports: [StoragePools],
})
export class StorageModule {}
