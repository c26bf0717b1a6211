import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, type Logger } from '#core';
import { DefaultPool, type VolumeInfo } from '#storage';
import { InstanceRepository } from './instance.repository.js';

/** A volume of the default pool, as `/1.0/storage-pools/default/volumes` lists it. */
export interface PoolVolume {
  /** LXD's volume types: `container` for an instance's root, `image` for an unpacked image. */
  type: 'container' | 'image';
  name: string;
  /** The instance using it; empty for an orphan. Image volumes are used by their image. */
  usedBy: string[];
  /** An instance volume with no instance, or an image volume a crash left half-filled. */
  orphan: boolean;
  path: string;
}

export type OrphanVolume = PoolVolume;

/**
 * Volumes of the default pool that nothing owns: an instance volume whose instance row is gone
 * (a crash between the two, a database restored from an older backup), an image volume left
 * unsealed (the images context removes those at start: one listed later is still being filled).
 * Instance volumes are logged at daemon start and listed, never deleted: what is in them may be
 * someone's only copy.
 */
@Injectable()
export class OrphanVolumes implements OnApplicationBootstrap {
  constructor(
    private readonly pool: DefaultPool,
    private readonly instances: InstanceRepository,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      for (const orphan of (await this.list()).filter((v) => v.orphan)) {
        this.log.warn({ volume: `${orphan.type}/${orphan.name}`, path: orphan.path }, 'storage volume has no instance; it is kept (delete it by hand if it is not needed)');
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not look for orphaned storage volumes');
    }
  }

  /** Every volume of the default pool, each with its user (none for an orphan). */
  async list(): Promise<PoolVolume[]> {
    const volumes = await (await this.pool.get()).listVolumes();
    const names = new Set((await this.instances.list()).map((i) => i.name));
    return volumes.map((v) => describe(v, names));
  }
}

function describe(v: VolumeInfo, instances: ReadonlySet<string>): PoolVolume {
  if (v.kind === 'image') {
    return { type: 'image', name: v.fingerprint, usedBy: v.sealed ? [`/1.0/images/${v.fingerprint}`] : [], orphan: !v.sealed, path: v.path };
  }
  const owned = instances.has(v.name);
  return { type: 'container', name: v.name, usedBy: owned ? [`/1.0/instances/${v.name}`] : [], orphan: !owned, path: v.path };
}
