import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PoolLayout, FILLING_SUFFIX } from '../domain/pool-layout.js';
import type { BackingDevice, DriverCapabilities, DriverName, PoolUsage, StorageDriver, VolumeInfo } from '../domain/storage-driver.js';
import { assertStorageName } from '../domain/storage-names.js';
import {
  StoragePoolUnavailableError,
  StorageVolumeExistsError,
  StorageVolumeNotFoundError,
} from '../domain/storage.errors.js';
import { runCommand, type CommandRunner } from './command-runner.js';
import { backingDevice } from './block-device.js';
import { asPoolError, asVolumeError } from './failures.js';
import { exists } from './fs-helpers.js';
import { withPathLocks } from './path-locks.js';
import { withRollback } from './rollback.js';

/**
 * What every driver whose pool is a directory tree under storage/<pool> shares: naming, locking,
 * existence checks, staging of image volumes and listing. A driver supplies the few primitives
 * that differ (LXD's drivers split the same way): how to make, clone, freeze and destroy a volume.
 */
export abstract class LocalPoolDriver implements StorageDriver {
  abstract readonly driver: DriverName;
  abstract readonly capabilities: DriverCapabilities;
  protected readonly layout: PoolLayout;

  constructor(berthDir: string, pool: string, protected readonly run: CommandRunner = runCommand) {
    this.layout = new PoolLayout(berthDir, assertStorageName('pool', pool));
  }

  get pool(): string {
    return this.layout.pool;
  }

  get path(): string {
    return this.layout.poolDir;
  }

  abstract createPool(): Promise<void>;
  abstract mountPool(): Promise<boolean>;
  abstract unmountPool(): Promise<boolean>;
  abstract deletePool(): Promise<void>;
  abstract usage(): Promise<PoolUsage>;

  /** Read from the mount table, so it holds for a loop device attached after a reboot too. */
  async blockDevice(): Promise<BackingDevice> {
    await this.assertMounted();
    return backingDevice(this.path);
  }

  /** Throws STORAGE.POOL_UNAVAILABLE unless the pool's volumes are reachable at `path`. */
  protected abstract assertMounted(): Promise<void>;
  /** Makes an empty volume at `path`, which does not exist. */
  protected abstract makeVolume(path: string): Promise<void>;
  /** Makes `target` (which does not exist) a writable copy of the sealed volume `source`. */
  protected abstract cloneVolume(source: string, target: string): Promise<void>;
  protected abstract setReadOnly(path: string, readOnly: boolean): Promise<void>;
  /** Removes the volume at `path` and everything inside it. */
  protected abstract destroyVolume(path: string): Promise<void>;

  async createImageVolume(fingerprint: string): Promise<string> {
    assertStorageName('image', fingerprint);
    const sealed = this.layout.imageVolume(fingerprint);
    const filling = this.layout.fillingImageVolume(fingerprint);
    return withPathLocks([sealed, filling], async () => {
      await this.assertMounted();
      if ((await exists(sealed)) || (await exists(filling))) {
        throw new StorageVolumeExistsError(`Image volume ${fingerprint} already exists on pool ${this.pool}`, undefined, this.details({ image: fingerprint }));
      }
      await this.createVolumeAt(filling, `create image volume ${fingerprint}`, () => this.makeVolume(filling));
      return filling;
    });
  }

  async sealImageVolume(fingerprint: string): Promise<string> {
    assertStorageName('image', fingerprint);
    const sealed = this.layout.imageVolume(fingerprint);
    const filling = this.layout.fillingImageVolume(fingerprint);
    return withPathLocks([sealed, filling], async () => {
      await this.assertMounted();
      if (!(await exists(filling))) {
        if (await exists(sealed)) return sealed;
        throw new StorageVolumeNotFoundError(`Image volume ${fingerprint} not found on pool ${this.pool}`, undefined, this.details({ image: fingerprint }));
      }
      const details = this.details({ image: fingerprint });
      return this.volumeStep(`seal image volume ${fingerprint}`, details, () =>
        withRollback(async (rollback) => {
          // Read-only first: a crash before the rename leaves a frozen but still unpublished volume.
          rollback.add(`read-only flag on ${filling}`, () => this.setReadOnly(filling, false));
          await this.setReadOnly(filling, true);
          await rename(filling, sealed);
          return sealed;
        }),
      );
    });
  }

  async deleteImageVolume(fingerprint: string): Promise<void> {
    assertStorageName('image', fingerprint);
    const candidates = [this.layout.imageVolume(fingerprint), this.layout.fillingImageVolume(fingerprint)];
    await withPathLocks(candidates, async () => {
      await this.assertMounted();
      const present = [];
      for (const path of candidates) if (await exists(path)) present.push(path);
      if (present.length === 0) {
        throw new StorageVolumeNotFoundError(`Image volume ${fingerprint} not found on pool ${this.pool}`, undefined, this.details({ image: fingerprint }));
      }
      for (const path of present) {
        await this.volumeStep(`delete image volume ${fingerprint}`, this.details({ image: fingerprint }), () => this.destroyVolume(path));
      }
    });
  }

  async removeUnfinishedImageVolume(fingerprint: string): Promise<boolean> {
    assertStorageName('image', fingerprint);
    const filling = this.layout.fillingImageVolume(fingerprint);
    return withPathLocks([this.layout.imageVolume(fingerprint), filling], async () => {
      await this.assertMounted();
      if (!(await exists(filling))) return false;
      // A crash while sealing leaves it read-only: neither driver refuses to destroy that.
      await this.volumeStep(`remove unfinished image volume ${fingerprint}`, this.details({ image: fingerprint }), () => this.destroyVolume(filling));
      return true;
    });
  }

  async sweepUnfinished(): Promise<string[]> {
    const swept: string[] = [];
    for (const volume of await this.listVolumes()) {
      if (volume.kind === 'image' && !volume.sealed && (await this.removeUnfinishedImageVolume(volume.fingerprint))) swept.push(volume.fingerprint);
    }
    return swept;
  }

  async createInstanceVolume(name: string, fromImage: string): Promise<string> {
    assertStorageName('instance', name);
    assertStorageName('image', fromImage);
    const target = this.layout.instanceVolume(name);
    const image = this.layout.imageVolume(fromImage);
    // Holding the image's lock keeps it from being deleted while it is being cloned.
    return withPathLocks([target, image], async () => {
      await this.assertMounted();
      await this.assertInstanceAbsent(name, target);
      if (!(await exists(image))) {
        const unsealed = await exists(this.layout.fillingImageVolume(fromImage));
        throw new StorageVolumeNotFoundError(
          `Image volume ${fromImage} ${unsealed ? 'is still being filled (not sealed)' : 'not found'} on pool ${this.pool}`,
          undefined,
          this.details({ image: fromImage }),
        );
      }
      await this.createVolumeAt(target, `create instance volume ${name} from image ${fromImage}`, () => this.cloneVolume(image, target));
      return target;
    });
  }

  async createEmptyInstanceVolume(name: string): Promise<string> {
    assertStorageName('instance', name);
    const target = this.layout.instanceVolume(name);
    return withPathLocks([target], async () => {
      await this.assertMounted();
      await this.assertInstanceAbsent(name, target);
      await this.createVolumeAt(target, `create instance volume ${name}`, () => this.makeVolume(target));
      return target;
    });
  }

  async renameInstanceVolume(from: string, to: string): Promise<string> {
    assertStorageName('instance', from);
    assertStorageName('instance', to);
    const source = this.layout.instanceVolume(from);
    const target = this.layout.instanceVolume(to);
    return withPathLocks([source, target], async () => {
      await this.assertMounted();
      await this.assertInstancePresent(from, source);
      await this.assertInstanceAbsent(to, target);
      await this.volumeStep(`rename instance volume ${from} to ${to}`, this.details({ instance: from, to }), () => rename(source, target));
      return target;
    });
  }

  async deleteInstanceVolume(name: string): Promise<void> {
    assertStorageName('instance', name);
    const path = this.layout.instanceVolume(name);
    await withPathLocks([path], async () => {
      await this.assertMounted();
      await this.assertInstancePresent(name, path);
      await this.volumeStep(`delete instance volume ${name}`, this.details({ instance: name }), () => this.destroyVolume(path));
    });
  }

  instanceVolumePath(name: string): string {
    return this.layout.instanceVolume(assertStorageName('instance', name));
  }

  async listVolumes(): Promise<VolumeInfo[]> {
    await this.assertMounted();
    const volumes: VolumeInfo[] = [];
    for (const entry of (await readdir(this.layout.imagesDir)).sort()) {
      const sealed = !entry.endsWith(FILLING_SUFFIX);
      const fingerprint = sealed ? entry : entry.slice(0, -FILLING_SUFFIX.length);
      if (!isStorageName(fingerprint)) continue; // not ours: never created by this layer
      volumes.push({ kind: 'image', fingerprint, sealed, path: join(this.layout.imagesDir, entry) });
    }
    for (const name of (await readdir(this.layout.containersDir)).sort()) {
      if (isStorageName(name)) volumes.push({ kind: 'instance', name, path: this.layout.instanceVolume(name) });
    }
    return volumes;
  }

  /**
   * Runs `create`, which makes `target`; if it fails, whatever it left at `target` (a half-made
   * copy, a snapshot taken before the tool reported an error) is destroyed before rethrowing.
   */
  private async createVolumeAt(target: string, message: string, create: () => Promise<void>): Promise<void> {
    await this.volumeStep(message, this.details({ path: target }), () =>
      withRollback(async (rollback) => {
        rollback.add(`volume ${target}`, async () => {
          if (await exists(target)) await this.destroyVolume(target);
        });
        await create();
      }),
    );
  }

  private async assertInstanceAbsent(name: string, path: string): Promise<void> {
    if (await exists(path)) {
      throw new StorageVolumeExistsError(`Instance volume ${name} already exists on pool ${this.pool}`, undefined, this.details({ instance: name }));
    }
  }

  private async assertInstancePresent(name: string, path: string): Promise<void> {
    if (!(await exists(path))) {
      throw new StorageVolumeNotFoundError(`Instance volume ${name} not found on pool ${this.pool}`, undefined, this.details({ instance: name }));
    }
  }

  protected details(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { pool: this.pool, driver: this.driver, ...extra };
  }

  protected async poolStep<T>(message: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw asPoolError(`Could not ${message}`, error, this.details());
    }
  }

  protected async volumeStep<T>(message: string, details: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw asVolumeError(`Could not ${message} on pool ${this.pool}`, error, details);
    }
  }

  /** The daemon owns BERTH_DIR; a pool is never the first thing to create it. */
  protected async assertBerthDir(): Promise<void> {
    const info = await stat(this.layout.berthDir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new StoragePoolUnavailableError(`Cannot create pool ${this.pool}: BERTH_DIR ${this.layout.berthDir} is not an existing directory`, undefined, this.details());
    }
  }

  /** The images/ and containers/ directories every pool holds, made traversable for idmapped roots. */
  protected async makeVolumeDirs(): Promise<void> {
    await mkdir(this.layout.imagesDir, { mode: 0o711 });
    await mkdir(this.layout.containersDir, { mode: 0o711 });
  }
}

function isStorageName(name: string): boolean {
  try {
    assertStorageName('instance', name);
    return true;
  } catch {
    return false;
  }
}
