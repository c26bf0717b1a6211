import { open, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { relative } from 'node:path';
import { poolSizeBytes } from '../domain/pool-size.js';
import type { DriverCapabilities, PoolUsage } from '../domain/storage-driver.js';
import { StoragePoolExistsError, StoragePoolInUseError, StoragePoolNotFoundError, StoragePoolUnavailableError } from '../domain/storage.errors.js';
import { runCommand, type CommandRunner } from './command-runner.js';
import { ensureDir, exists, realpathIfExists, removeIfEmpty } from './fs-helpers.js';
import { LocalPoolDriver } from './local-pool-driver.js';
import { LoopDeviceBusyError, LoopDevices } from './loop-devices.js';
import { mountAt } from './mount-table.js';
import { withPathLocks } from './path-locks.js';
import { withRollback } from './rollback.js';

export interface BtrfsPoolOptions {
  /** Size of the sparse loop file; by default 20% of the free space, between 5 and 30 GiB (LXD's rule). */
  sizeBytes?: number;
}

/** The inode number of every btrfs subvolume's root directory (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INODE = 256;

/**
 * A btrfs filesystem in a sparse loop file (disks/<pool>.img) mounted at storage/<pool>, as LXD's
 * btrfs driver does. Image volumes are subvolumes frozen with the `ro` property; instance volumes
 * are writable snapshots of them, so creating one costs the same whatever the image size.
 * btrfs(8), mkfs.btrfs(8), losetup(8), mount(8).
 */
export class BtrfsDriver extends LocalPoolDriver {
  readonly driver = 'btrfs' as const;
  readonly capabilities: DriverCapabilities = { copyOnWrite: true, readOnlyImages: true, atomicSnapshots: true };
  private readonly loops: LoopDevices;

  constructor(berthDir: string, pool: string, private readonly options: BtrfsPoolOptions = {}, run: CommandRunner = runCommand) {
    super(berthDir, pool, run);
    this.loops = new LoopDevices(run);
  }

  async createPool(): Promise<void> {
    const { layout } = this;
    await withPathLocks([layout.poolDir], async () => {
      await this.assertBerthDir();
      if ((await exists(layout.diskFile)) || (await exists(layout.poolDir))) {
        throw new StoragePoolExistsError(`Pool ${this.pool} already exists under ${layout.berthDir}`, undefined, this.details());
      }
      const free = await statfs(layout.berthDir);
      const size = poolSizeBytes(this.options.sizeBytes, free.bavail * free.bsize);
      await this.poolStep(`create pool ${this.pool}`, () =>
        withRollback(async (rollback) => {
          await ensureDir(layout.disksDir, rollback, 0o700);
          const file = await open(layout.diskFile, 'wx', 0o600);
          rollback.add(`loop file ${layout.diskFile}`, () => rm(layout.diskFile, { force: true }));
          try {
            await file.truncate(size); // sparse: blocks are allocated on the host only as the pool fills
          } finally {
            await file.close();
          }
          // --nodiscard: the file is already all holes, discarding it again only costs time.
          await this.run('mkfs.btrfs', ['--quiet', '--nodiscard', layout.diskFile]);
          // Each undo is recorded before its step and finds what to undo by itself, so a tool that
          // did its work and then reported a failure is undone too.
          rollback.add(`loop device backed by ${layout.diskFile}`, () => this.loops.detachAll(layout.diskFile));
          const device = await this.loops.attach(layout.diskFile);
          await ensureDir(layout.storageDir, rollback);
          await ensureDir(layout.poolDir, rollback);
          rollback.add(`mount at ${layout.poolDir}`, () => this.unmountIfMounted());
          await this.mount(device);
          await this.makeVolumeDirs();
        }),
      );
    });
  }

  async mountPool(): Promise<boolean> {
    return withPathLocks([this.layout.poolDir], () => this.mountUnlocked());
  }

  async unmountPool(): Promise<boolean> {
    return withPathLocks([this.layout.poolDir], () => this.unmountUnlocked());
  }

  async deletePool(): Promise<void> {
    const { layout } = this;
    await withPathLocks([layout.poolDir], async () => {
      if (!(await exists(layout.diskFile))) {
        throw new StoragePoolNotFoundError(`Pool ${this.pool} not found under ${layout.berthDir}`, undefined, this.details());
      }
      const mountedNow = await this.mountUnlocked();
      const volumes = await this.listVolumes();
      if (volumes.length > 0) {
        if (mountedNow) await this.unmountUnlocked();
        throw new StoragePoolInUseError(`Pool ${this.pool} still holds ${volumes.length} volume(s)`, undefined, this.details({ volumes: volumes.length }));
      }
      await this.unmountUnlocked();
      await this.poolStep(`delete pool ${this.pool}`, async () => {
        await rm(layout.diskFile, { force: true });
        await rmdir(layout.poolDir).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        await removeIfEmpty(layout.disksDir);
        await removeIfEmpty(layout.storageDir);
      });
    });
  }

  async usage(): Promise<PoolUsage> {
    await this.assertMounted();
    const fs = await statfs(this.layout.poolDir);
    const file = await stat(this.layout.diskFile);
    return { usedBytes: (fs.blocks - fs.bfree) * fs.bsize, totalBytes: fs.blocks * fs.bsize, hostBytes: file.blocks * 512 };
  }

  protected async assertMounted(): Promise<void> {
    if (!(await this.isMounted())) {
      throw new StoragePoolUnavailableError(`Pool ${this.pool} is not mounted at ${this.layout.poolDir}`, undefined, this.details());
    }
  }

  protected async makeVolume(path: string): Promise<void> {
    await this.run('btrfs', ['subvolume', 'create', path]);
  }

  protected async cloneVolume(source: string, target: string): Promise<void> {
    // Without -r the snapshot is writable even though its source is read-only.
    await this.run('btrfs', ['subvolume', 'snapshot', source, target]);
  }

  protected async setReadOnly(path: string, readOnly: boolean): Promise<void> {
    await this.run('btrfs', ['property', 'set', '-ts', path, 'ro', String(readOnly)]);
  }

  /**
   * A subvolume holding other subvolumes cannot be deleted (ENOTEMPTY), and systemd inside an
   * instance creates some (/var/lib/machines, /var/lib/portables); delete the deepest first.
   * btrfs-progs 6.2 (Debian 12) has no `subvolume delete --recursive` yet.
   */
  protected async destroyVolume(path: string): Promise<void> {
    if ((await stat(path)).ino !== SUBVOLUME_ROOT_INODE) {
      // A plain directory (e.g. made by hand): remove it without crossing into other mounts.
      await this.run('rm', ['-rf', '--one-file-system', '--', path]);
      return;
    }
    const prefix = `${relative(this.layout.poolDir, path)}/`;
    const nested = (await this.subvolumePaths()).filter((p) => p.startsWith(prefix));
    nested.sort((a, b) => b.split('/').length - a.split('/').length);
    const targets = [...nested.map((p) => `${this.layout.poolDir}/${p}`), path];
    await this.run('btrfs', ['subvolume', 'delete', ...targets]);
  }

  /** Paths of every subvolume, relative to the pool's top level (the pool is mounted at subvolid 5). */
  private async subvolumePaths(): Promise<string[]> {
    const { stdout } = await this.run('btrfs', ['subvolume', 'list', this.layout.poolDir]);
    return stdout
      .split('\n')
      .map((line) => /^ID \d+ gen \d+ top level \d+ path (.+)$/.exec(line)?.[1])
      .filter((p): p is string => p !== undefined);
  }

  private async mountUnlocked(): Promise<boolean> {
    const { layout } = this;
    if (await this.isMounted()) return false;
    if (!(await exists(layout.diskFile))) {
      throw new StoragePoolNotFoundError(`Pool ${this.pool} not found: no loop file ${layout.diskFile}`, undefined, this.details());
    }
    return this.poolStep(`mount pool ${this.pool}`, () =>
      withRollback(async (rollback) => {
        // A crash between attach and mount leaves the device attached: reuse it, never stack a second.
        let [device] = await this.loops.backing(layout.diskFile);
        if (!device) {
          rollback.add(`loop device backed by ${layout.diskFile}`, () => this.loops.detachAll(layout.diskFile));
          device = await this.loops.attach(layout.diskFile);
        }
        await ensureDir(layout.storageDir, rollback);
        await ensureDir(layout.poolDir, rollback);
        rollback.add(`mount at ${layout.poolDir}`, () => this.unmountIfMounted());
        await this.mount(device);
        return true;
      }),
    );
  }

  private async unmountUnlocked(): Promise<boolean> {
    const { layout } = this;
    const changed = await this.poolStep(`unmount pool ${this.pool}`, () => this.unmountIfMounted());
    if (await exists(layout.diskFile)) {
      const detached = await this.poolStep(`detach the loop device of pool ${this.pool}`, () =>
        this.loops.detachAll(layout.diskFile).catch((error: unknown) => {
          if (error instanceof LoopDeviceBusyError) throw new StoragePoolInUseError(`Pool ${this.pool}: ${error.message}`, undefined, this.details());
          throw error;
        }),
      );
      return changed || detached.length > 0;
    }
    return changed;
  }

  /**
   * user_subvol_rm_allowed lets an instance's root delete the subvolumes it made, as under LXD.
   * Nothing here sets discard: the kernel enables discard=async, which punches holes back into
   * the loop file as files are deleted.
   */
  private async mount(device: string): Promise<void> {
    await this.run('mount', ['-t', 'btrfs', '-o', 'user_subvol_rm_allowed', device, this.layout.poolDir]);
  }

  private async unmountIfMounted(): Promise<boolean> {
    if (!(await this.isMounted())) return false;
    await this.run('umount', [this.layout.poolDir]);
    return true;
  }

  private async isMounted(): Promise<boolean> {
    const mountPoint = await realpathIfExists(this.layout.poolDir);
    if (!mountPoint) return false;
    const mount = await mountAt(mountPoint);
    if (!mount) return false;
    if (mount.fsType !== 'btrfs') {
      throw new StoragePoolUnavailableError(`Pool ${this.pool}: ${mount.fsType} from ${mount.source} is mounted at ${mountPoint}, not the pool`, undefined, this.details());
    }
    return true;
  }
}
