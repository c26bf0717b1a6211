import { join, resolve } from 'node:path';

/**
 * Where one pool lives under BERTH_DIR (see DESIGN.md):
 *   disks/<pool>.img                      the loop file of a btrfs pool
 *   storage/<pool>/                       the pool (the btrfs mount, or a plain directory)
 *     images/<fingerprint>/               a sealed image volume
 *     images/<fingerprint>.filling/       an image volume being filled (left by a crash = orphan)
 *     containers/<name>/                  an instance's root volume
 * Snapshots of instances will go to storage/<pool>/containers-snapshots/<name>/<snapshot>/, as in LXD.
 */
export class PoolLayout {
  readonly berthDir: string;

  constructor(berthDir: string, readonly pool: string) {
    this.berthDir = resolve(berthDir);
  }

  get storageDir(): string {
    return join(this.berthDir, 'storage');
  }

  get disksDir(): string {
    return join(this.berthDir, 'disks');
  }

  get poolDir(): string {
    return join(this.storageDir, this.pool);
  }

  get diskFile(): string {
    return join(this.disksDir, `${this.pool}.img`);
  }

  get imagesDir(): string {
    return join(this.poolDir, 'images');
  }

  get containersDir(): string {
    return join(this.poolDir, 'containers');
  }

  imageVolume(fingerprint: string): string {
    return join(this.imagesDir, fingerprint);
  }

  fillingImageVolume(fingerprint: string): string {
    return join(this.imagesDir, `${fingerprint}${FILLING_SUFFIX}`);
  }

  instanceVolume(name: string): string {
    return join(this.containersDir, name);
  }
}

export const FILLING_SUFFIX = '.filling';
