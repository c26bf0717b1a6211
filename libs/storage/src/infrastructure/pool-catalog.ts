import { execFile } from 'node:child_process';
import { stat, statfs } from 'node:fs/promises';
import { Injectable } from '@nestjs/common';
import { DefaultPool } from '../default-pool.js';
import { PoolLayout } from '../domain/pool-layout.js';
import { formatSize } from '../domain/pool-view.js';
import type { StorageDriver } from '../domain/storage-driver.js';
import { StoragePoolNotFoundError } from '../domain/storage.errors.js';
import { StoragePools } from '../storage-pools.js';
import { StorageOperationFailedError } from '../domain/storage.errors.js';

/** A filesystem's space and inodes as LXD's pool resources show them (statfs(2) of the pool's mount). */
export interface PoolResources {
  space: { used: number; total: number };
  inodes: { used: number; total: number };
}

/**
 * The pools a client can name: Berth has one, `default` (DESIGN.md: storage/<pool> under
 * BERTH_DIR). Opening it creates or re-mounts it on first use, as every other use of the pool does.
 */
@Injectable()
export class PoolCatalog {
  constructor(private readonly pools: StoragePools, private readonly defaultPool: DefaultPool) {}

  names(): string[] {
    return ['default'];
  }

  has(name: string): boolean {
    return this.names().includes(name);
  }

  /** The pool's driver, mounted; LXD's 404 wording for a pool that does not exist. */
  async open(name: string): Promise<StorageDriver> {
    if (!this.has(name)) throw new StoragePoolNotFoundError('Storage pool not found', undefined, { pool: name });
    return this.defaultPool.get();
  }

  /** The driver's keys as LXD shows a pool's config: the loop file and its size for btrfs, the directory for dir. */
  async driverConfig(pool: StorageDriver): Promise<Record<string, string>> {
    if (pool.driver === 'dir') return { source: pool.path };
    const { diskFile } = new PoolLayout(this.pools.berthDir, pool.pool);
    return { source: diskFile, size: formatSize((await stat(diskFile)).size) };
  }

  async resources(pool: StorageDriver): Promise<PoolResources> {
    await pool.usage(); // fails with STORAGE.POOL_UNAVAILABLE when the pool is not mounted
    const fs = await statfs(pool.path);
    return {
      space: { used: (fs.blocks - fs.bfree) * fs.bsize, total: fs.blocks * fs.bsize },
      inodes: { used: fs.files - fs.ffree, total: fs.files },
    };
  }

  /**
   * Bytes a volume takes, as du(1) counts them: allocated blocks, hard links once, without
   * following symlinks or crossing into another filesystem (nor a nested btrfs subvolume). Blocks
   * a btrfs clone still shares with its image are counted too, as du sees them. A file removed
   * during the walk (the instance is running) makes du exit 1 after printing its total: that total
   * is still the answer.
   */
  volumeUsage(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      execFile('du', ['--summarize', '--block-size=1', '--one-file-system', '--', path], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        const total = /^(\d+)\t/.exec(stdout);
        if (total && (!err || err.code === 1)) resolve(Number(total[1]));
        else reject(new StorageOperationFailedError(`Cannot measure the volume at ${path}`, { command: `du ${path}`, exitCode: typeof err?.code === 'number' ? err.code : null, stderr }));
      });
    });
  }
}
