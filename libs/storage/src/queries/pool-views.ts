import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ListProfilesQuery, type ProfileView } from '#profiles';
import { describeVolumes, poolUsedBy, type PoolVolume, type StoragePoolView, type VolumeType } from '../domain/pool-view.js';
import { StorageVolumeNotFoundError } from '../domain/storage.errors.js';
import { ListVolumeOwnersQuery } from '../domain/volume-owners.js';
import { PoolCatalog } from '../infrastructure/pool-catalog.js';
import { StoragePoolRepository } from '../infrastructure/storage-pool.repository.js';

/** Assembles a pool's and its volumes' views from the disk, the pool's row, and who uses them. */
@Injectable()
export class PoolViews {
  constructor(private readonly catalog: PoolCatalog, private readonly repository: StoragePoolRepository, private readonly queries: QueryBus) {}

  async volumes(pool: string): Promise<PoolVolume[]> {
    const driver = await this.catalog.open(pool);
    const [volumes, owners] = await Promise.all([driver.listVolumes(), this.queries.execute(new ListVolumeOwnersQuery())]);
    return describeVolumes(volumes, new Set(owners));
  }

  /** One volume; LXD's 404 wording when there is none of that type and name. */
  async volume(pool: string, type: VolumeType, name: string): Promise<PoolVolume> {
    const found = (await this.volumes(pool)).find((v) => v.type === type && v.name === name);
    if (!found) throw new StorageVolumeNotFoundError('Storage volume not found', undefined, { pool, type, name });
    return found;
  }

  async pool(name: string): Promise<StoragePoolView> {
    const driver = await this.catalog.open(name);
    const [settings, fixed, volumes, profiles] = await Promise.all([
      this.repository.settings(name),
      this.catalog.driverConfig(driver),
      this.volumes(name),
      this.queries.execute(new ListProfilesQuery(1)) as Promise<ProfileView[]>,
    ]);
    return {
      name,
      driver: driver.driver,
      description: settings.description,
      config: { ...settings.config, ...fixed },
      status: 'Created',
      locations: ['none'],
      used_by: poolUsedBy(name, volumes, profiles),
    };
  }
}
