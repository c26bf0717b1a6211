import { Query } from '@nestjs/cqrs';
import type { VolumeType } from '../../domain/pool-view.js';

/** LXD's volume state: bytes used, and `total` the volume's size limit (0: none, as LXD without a `size`). */
export interface StorageVolumeState {
  usage: { used: number; total: number };
}

export class GetStorageVolumeStateQuery extends Query<StorageVolumeState> {
  constructor(readonly pool: string, readonly type: VolumeType, readonly name: string) {
    super();
  }
}
