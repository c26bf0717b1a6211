import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, LOGGER, type BerthConfig, type Logger } from '#core';
import type { StorageDriver } from './domain/storage-driver.js';
import { StoragePools } from './storage-pools.js';

/**
 * The daemon's `default` pool, opened (created, or re-mounted after a reboot) on first use, so a
 * daemon that never stores an image or an instance never creates one.
 */
@Injectable()
export class DefaultPool {
  private opening?: Promise<StorageDriver>;

  constructor(private readonly pools: StoragePools, @Inject(BERTH_CONFIG) private readonly config: BerthConfig, @Inject(LOGGER) private readonly log: Logger) {}

  get(): Promise<StorageDriver> {
    this.opening ??= this.pools
      .open('default', { driver: this.config.BERTH_STORAGE_DRIVER, sizeBytes: this.config.BERTH_STORAGE_SIZE ? Number(this.config.BERTH_STORAGE_SIZE) : undefined })
      .then(({ pool, created, mounted, reason }) => {
        this.log.info({ pool: 'default', driver: pool.driver, created, mounted, reason }, 'storage pool ready');
        return pool;
      })
      .catch((err) => {
        this.opening = undefined;
        throw err;
      });
    return this.opening;
  }
}
