import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { volumeView, type StorageVolumeView } from '../../domain/pool-view.js';
import { PoolViews } from '../pool-views.js';
import { GetStorageVolumeQuery } from './get-storage-volume.query.js';

@QueryHandler(GetStorageVolumeQuery)
export class GetStorageVolumeHandler implements IQueryHandler<GetStorageVolumeQuery> {
  constructor(private readonly views: PoolViews) {}

  async execute({ pool, type, name }: GetStorageVolumeQuery): Promise<StorageVolumeView> {
    return volumeView(await this.views.volume(pool, type, name));
  }
}
