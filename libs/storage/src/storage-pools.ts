import { stat } from 'node:fs/promises';
import { PoolLayout } from './domain/pool-layout.js';
import type { DriverName, StorageDriver } from './domain/storage-driver.js';
import { assertStorageName } from './domain/storage-names.js';
import { StoragePoolExistsError, StoragePoolNotFoundError, StoragePoolUnavailableError } from './domain/storage.errors.js';
import { BtrfsDriver } from './infrastructure/btrfs-driver.js';
import { runCommand, type CommandRunner } from './infrastructure/command-runner.js';
import { DirDriver } from './infrastructure/dir-driver.js';
import { chooseDriver } from './infrastructure/driver-probe.js';
import { exists } from './infrastructure/fs-helpers.js';

export interface PoolOptions {
  /** `auto` (the default) probes for btrfs and falls back to dir. Ignored for a pool that exists. */
  driver?: DriverName | 'auto';
  /** Loop file size of a new btrfs pool; by default LXD's rule (20% of free space, 5 to 30 GiB). */
  sizeBytes?: number;
}

export interface OpenedPool {
  pool: StorageDriver;
  /** True when this call created the pool. */
  created: boolean;
  /** True when this call mounted it (e.g. at the first start after a reboot). */
  mounted: boolean;
  /** Why this driver: "existing btrfs pool", or the probe's reason (such as why btrfs was not usable). */
  reason: string;
}

/**
 * The pools of one BERTH_DIR. At daemon start `open` brings each pool back: an existing pool is
 * re-mounted if needed (a reboot drops the loop device and the mount), a missing one is created
 * with the chosen driver. Which driver an existing pool uses is read from disk, so it never changes.
 */
export class StoragePools {
  private readonly opened = new Map<string, StorageDriver>();

  constructor(
    readonly berthDir: string,
    private readonly run: CommandRunner = runCommand,
  ) {}

  async open(name: string, options: PoolOptions = {}): Promise<OpenedPool> {
    assertStorageName('pool', name);
    const existing = await this.inspect(name);
    if (existing) {
      if (options.driver && options.driver !== 'auto' && options.driver !== existing) {
        throw new StoragePoolExistsError(`Pool ${name} already exists with driver ${existing}, not ${options.driver}`, undefined, { pool: name, driver: existing });
      }
      const pool = this.driverFor(existing, name, options);
      const mounted = await pool.mountPool();
      this.opened.set(name, pool);
      return { pool, created: false, mounted, reason: `existing ${existing} pool` };
    }
    await this.assertBerthDir(name);
    const choice = options.driver && options.driver !== 'auto' ? { driver: options.driver, reason: `${options.driver} requested` } : await chooseDriver(this.berthDir, this.run);
    const pool = this.driverFor(choice.driver, name, options);
    await pool.createPool();
    this.opened.set(name, pool);
    return { pool, created: true, mounted: choice.driver === 'btrfs', reason: choice.reason };
  }

  /** A pool opened by this daemon. */
  get(name: string): StorageDriver {
    const pool = this.opened.get(name);
    if (!pool) throw new StoragePoolNotFoundError(`Pool ${name} is not open`, undefined, { pool: name });
    return pool;
  }

  list(): StorageDriver[] {
    return [...this.opened.values()];
  }

  /**
   * The driver of the pool `name` as found on disk: a loop file means btrfs, a pool directory
   * with its images/ folder means dir; undefined when there is no such pool.
   */
  async inspect(name: string): Promise<DriverName | undefined> {
    const layout = new PoolLayout(this.berthDir, assertStorageName('pool', name));
    if (await exists(layout.diskFile)) return 'btrfs';
    if (await exists(layout.imagesDir)) return 'dir';
    return undefined;
  }

  /** Deletes an empty pool and forgets it. */
  async delete(name: string): Promise<void> {
    const driver = await this.inspect(name);
    if (!driver) throw new StoragePoolNotFoundError(`Pool ${name} not found under ${this.berthDir}`, undefined, { pool: name });
    await (this.opened.get(name) ?? this.driverFor(driver, name, {})).deletePool();
    this.opened.delete(name);
  }

  private driverFor(driver: DriverName, name: string, options: PoolOptions): StorageDriver {
    return driver === 'btrfs' ? new BtrfsDriver(this.berthDir, name, { sizeBytes: options.sizeBytes }, this.run) : new DirDriver(this.berthDir, name, this.run);
  }

  private async assertBerthDir(pool: string): Promise<void> {
    const info = await stat(this.berthDir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new StoragePoolUnavailableError(`Cannot create pool ${pool}: BERTH_DIR ${this.berthDir} is not an existing directory`, undefined, { pool });
    }
  }
}
