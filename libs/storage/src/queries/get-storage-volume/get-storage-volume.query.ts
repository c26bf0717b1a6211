import { Query } from '@nestjs/cqrs';
import type { StorageVolumeView, VolumeType } from '../../domain/pool-view.js';

export class GetStorageVolumeQuery extends Query<StorageVolumeView> {
  constructor(readonly pool: string, readonly type: VolumeType, readonly name: string) {
    super();
  }
}
