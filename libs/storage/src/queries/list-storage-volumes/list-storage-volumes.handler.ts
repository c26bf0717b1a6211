import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { volumeUrl, volumeView, type StorageVolumeView } from '../../domain/pool-view.js';
import { PoolViews } from '../pool-views.js';
import { ListStorageVolumesQuery } from './list-storage-volumes.query.js';

@QueryHandler(ListStorageVolumesQuery)
export class ListStorageVolumesHandler implements IQueryHandler<ListStorageVolumesQuery> {
  constructor(private readonly views: PoolViews) {}

  async execute({ pool, type, recursion, filter }: ListStorageVolumesQuery): Promise<string[] | StorageVolumeView[]> {
    const volumes = (await this.views.volumes(pool)).filter((v) => {
      if (type !== undefined && v.type !== type) return false;
      if (filter === 'orphan') return v.orphan;
      // LXD's filter also sees whether a volume is a snapshot; Berth's volumes never are.
      return !filter || filter.matches({ ...volumeView(v), snapshot: 'false' });
    });
    return recursion === 0 ? volumes.map((v) => volumeUrl(pool, v.type, v.name)) : volumes.map(volumeView);
  }
}
