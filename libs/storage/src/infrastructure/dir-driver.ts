import { mkdir, rmdir, statfs } from 'node:fs/promises';
import type { DriverCapabilities, PoolUsage } from '../domain/storage-driver.js';
import { StoragePoolExistsError, StoragePoolInUseError, StoragePoolNotFoundError, StoragePoolUnavailableError } from '../domain/storage.errors.js';
import { ensureDir, exists, removeIfEmpty } from './fs-helpers.js';
import { LocalPoolDriver } from './local-pool-driver.js';
import { withPathLocks } from './path-locks.js';
import { withRollback } from './rollback.js';

/**
 * The fallback when btrfs cannot be used: storage/<pool> is a plain directory and an instance
 * volume is a full copy of its image (`cp --reflink=auto` shares blocks only where the host
 * filesystem can reflink, e.g. xfs). Creation time grows with the image size, and sealed images
 * are read-only by convention only; `capabilities` says so to the daemon.
 */
export class DirDriver extends LocalPoolDriver {
  readonly driver = 'dir' as const;
  readonly capabilities: DriverCapabilities = { copyOnWrite: false, readOnlyImages: false, atomicSnapshots: false };

  async createPool(): Promise<void> {
    const { layout } = this;
    await withPathLocks([layout.poolDir], async () => {
      await this.assertBerthDir();
      if ((await exists(layout.poolDir)) || (await exists(layout.diskFile))) {
        throw new StoragePoolExistsError(`Pool ${this.pool} already exists under ${layout.berthDir}`, undefined, this.details());
      }
      await this.poolStep(`create pool ${this.pool}`, () =>
        withRollback(async (rollback) => {
          await ensureDir(layout.storageDir, rollback);
          await mkdir(layout.poolDir, { mode: 0o711 });
          rollback.add(`directory ${layout.poolDir}`, () => this.run('rm', ['-rf', '--one-file-system', '--', layout.poolDir]));
          await this.makeVolumeDirs();
        }),
      );
    });
  }

  /** Nothing to mount; only checks the pool is there. */
  async mountPool(): Promise<boolean> {
    await this.assertMounted();
    return false;
  }

  async unmountPool(): Promise<boolean> {
    return false;
  }

  async deletePool(): Promise<void> {
    const { layout } = this;
    await withPathLocks([layout.poolDir], async () => {
      if (!(await exists(layout.poolDir))) {
        throw new StoragePoolNotFoundError(`Pool ${this.pool} not found under ${layout.berthDir}`, undefined, this.details());
      }
      const volumes = await this.listVolumes();
      if (volumes.length > 0) {
        throw new StoragePoolInUseError(`Pool ${this.pool} still holds ${volumes.length} volume(s)`, undefined, this.details({ volumes: volumes.length }));
      }
      await this.poolStep(`delete pool ${this.pool}`, async () => {
        await rmdir(layout.imagesDir);
        await rmdir(layout.containersDir);
        await rmdir(layout.poolDir);
        await removeIfEmpty(layout.storageDir);
      });
    });
  }

  /** The pool's own allocated bytes (du), against its host filesystem's capacity. */
  async usage(): Promise<PoolUsage> {
    await this.assertMounted();
    const fs = await statfs(this.layout.poolDir);
    const { stdout } = await this.poolStep(`measure pool ${this.pool}`, () => this.run('du', ['--summarize', '--block-size=1', '--one-file-system', this.layout.poolDir]));
    const used = Number(stdout.split('\t')[0]);
    return { usedBytes: used, totalBytes: fs.blocks * fs.bsize, hostBytes: used };
  }

  protected async assertMounted(): Promise<void> {
    if (!(await exists(this.layout.imagesDir)) || !(await exists(this.layout.containersDir))) {
      const message = (await exists(this.layout.poolDir)) ? `Pool ${this.pool} at ${this.layout.poolDir} is incomplete` : `Pool ${this.pool} not found`;
      throw new StoragePoolUnavailableError(message, undefined, this.details());
    }
  }

  protected async makeVolume(path: string): Promise<void> {
    await mkdir(path, { mode: 0o755 });
  }

  protected async cloneVolume(source: string, target: string): Promise<void> {
    await mkdir(target, { mode: 0o755 });
    // -T copies source's contents and its own owner, mode and times onto target.
    await this.run('cp', ['--archive', '--reflink=auto', '--no-target-directory', '--', source, target]);
  }

  protected async setReadOnly(): Promise<void> {
    // A directory tree has no read-only switch of its own; capabilities.readOnlyImages is false.
  }

  protected async destroyVolume(path: string): Promise<void> {
    // --one-file-system: never follow a mount that ended up inside a volume into the host.
    await this.run('rm', ['-rf', '--one-file-system', '--', path]);
  }
}
