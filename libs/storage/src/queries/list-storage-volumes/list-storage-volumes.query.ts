import { Query } from '@nestjs/cqrs';
import type { Filter } from '#core';
import type { StorageVolumeView, VolumeType } from '../../domain/pool-view.js';

/**
 * `GET /1.0/storage-pools/{pool}/volumes[/{type}]`: URLs at recursion 0, views above. `filter` is
 * LXD's filter language, or `orphan` (Berth's own) for the volumes nothing owns.
 */
export class ListStorageVolumesQuery extends Query<string[] | StorageVolumeView[]> {
  constructor(
    readonly pool: string,
    readonly type: VolumeType | undefined,
    readonly recursion: 0 | 1,
    readonly filter: Filter | 'orphan' | undefined,
  ) {
    super();
  }
}
