/** The drivers Berth ships. zfs and lvm would join here; the interface below is what they must provide. */
export type DriverName = 'btrfs' | 'dir';

/** What a driver can promise, so callers choose behaviour instead of testing driver names. */
export interface DriverCapabilities {
  /** A new instance volume shares the image's blocks and costs the same whatever the image size. */
  readonly copyOnWrite: boolean;
  /** A sealed image volume is enforced read-only by the filesystem (not only by convention). */
  readonly readOnlyImages: boolean;
  /**
   * A snapshot of a running instance is taken in one atomic step (btrfs, zfs); without it the
   * instance must be frozen while its volume is copied (dir), as LXD does.
   */
  readonly atomicSnapshots: boolean;
}

export type VolumeInfo =
  | { readonly kind: 'image'; readonly fingerprint: string; readonly path: string; readonly sealed: boolean }
  | { readonly kind: 'instance'; readonly name: string; readonly path: string };

export interface PoolUsage {
  /** Bytes used inside the pool, as its filesystem reports them. */
  readonly usedBytes: number;
  /** The pool's capacity (a dir pool shares its host filesystem's capacity). */
  readonly totalBytes: number;
  /** Bytes the pool really takes on the host: the allocated blocks of a sparse loop file. */
  readonly hostBytes: number;
}

/**
 * The block device a filesystem path is stored on, as the kernel's I/O throttles name it
 * (`MAJ:MIN` of a whole disk: blk-throttle refuses partitions), or why there is none: a pool on
 * tmpfs, overlayfs or another filesystem without a block device has nothing to throttle.
 */
export type BackingDevice =
  | { readonly kind: 'device'; readonly major: number; readonly minor: number; readonly source: string }
  | { readonly kind: 'none'; readonly reason: string };

/**
 * One storage pool, bound to its location under BERTH_DIR. Every operation either completes or
 * leaves the host as it found it (no subvolume, directory, mount or loop device behind).
 * Volume operations need the pool mounted and fail with STORAGE.POOL_UNAVAILABLE otherwise.
 */
export interface StorageDriver {
  readonly driver: DriverName;
  readonly pool: string;
  /** The pool's root: storage/<pool> under BERTH_DIR. */
  readonly path: string;
  readonly capabilities: DriverCapabilities;

  /** Creates the pool and leaves it mounted. STORAGE.POOL_EXISTS if anything of it is already there. */
  createPool(): Promise<void>;
  /** Mounts the pool if needed (after a reboot its loop device is gone); true when this call mounted it. */
  mountPool(): Promise<boolean>;
  /** Unmounts the pool and releases its loop device if needed; true when this call did something. */
  unmountPool(): Promise<boolean>;
  /** Removes an empty pool entirely. STORAGE.POOL_IN_USE while it holds volumes. */
  deletePool(): Promise<void>;
  usage(): Promise<PoolUsage>;
  /** The block device the pool's volumes are stored on (a btrfs pool's loop device, a dir pool's host disk), for I/O limits. */
  blockDevice(): Promise<BackingDevice>;

  /** Creates an empty, writable image volume and returns the path to fill. */
  createImageVolume(fingerprint: string): Promise<string>;
  /** Makes a filled image volume read-only and publishes it under its fingerprint; returns its path. */
  sealImageVolume(fingerprint: string): Promise<string>;
  /** Deletes a sealed image volume, or abandons one being filled. Instances cloned from it are unaffected. */
  deleteImageVolume(fingerprint: string): Promise<void>;
  /**
   * Removes the image volume of `fingerprint` left unsealed (by a crash, or a failed removal);
   * true when there was one. Only for a fingerprint nobody is filling.
   */
  removeUnfinishedImageVolume(fingerprint: string): Promise<boolean>;
  /**
   * Removes every image volume left unsealed and answers their fingerprints. For daemon start,
   * when nothing can be filling one.
   */
  sweepUnfinished(): Promise<string[]>;

  /** Creates an instance's root volume as a clone of a sealed image; returns its path. */
  createInstanceVolume(name: string, fromImage: string): Promise<string>;
  /** Creates an empty instance volume (for imports and copies that bring their own root). */
  createEmptyInstanceVolume(name: string): Promise<string>;
  renameInstanceVolume(from: string, to: string): Promise<string>;
  /** Deletes an instance volume, with any subvolumes the instance created inside it. */
  deleteInstanceVolume(name: string): Promise<void>;
  instanceVolumePath(name: string): string;

  /** Every volume on the pool, including image volumes a crash left unsealed, so the daemon can report orphans. */
  listVolumes(): Promise<VolumeInfo[]>;
}
