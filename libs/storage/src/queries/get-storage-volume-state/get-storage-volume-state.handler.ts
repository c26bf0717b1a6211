import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { PoolCatalog } from '../../infrastructure/pool-catalog.js';
import { PoolViews } from '../pool-views.js';
import { GetStorageVolumeStateQuery, type StorageVolumeState } from './get-storage-volume-state.query.js';

/** As LXD: the state of instance (and custom) volumes only; an image volume's is a 400. */
@QueryHandler(GetStorageVolumeStateQuery)
export class GetStorageVolumeStateHandler implements IQueryHandler<GetStorageVolumeStateQuery> {
  constructor(private readonly views: PoolViews, private readonly catalog: PoolCatalog) {}

  async execute({ pool, type, name }: GetStorageVolumeStateQuery): Promise<StorageVolumeState> {
    if (type === 'image') throw new ValidationError('type', `a volume of type "${type}" has no state (instance and custom volumes have)`);
    const volume = await this.views.volume(pool, type, name);
    return { usage: { used: await this.catalog.volumeUsage(volume.path), total: 0 } };
  }
}
