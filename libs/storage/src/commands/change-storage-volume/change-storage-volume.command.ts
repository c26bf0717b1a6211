import { Command } from '@nestjs/cqrs';
import type { VolumeType } from '../../domain/pool-view.js';

/**
 * A write to the volumes API: creating a volume (`type` and `name` from the body or the path),
 * or updating, renaming or deleting one. Berth's volumes follow their instance or image, and it
 * has no custom volumes; this answers why, after checking that what is named exists.
 */
export class ChangeStorageVolumeCommand extends Command<void> {
  constructor(
    readonly pool: string,
    readonly action: 'create' | 'update' | 'rename' | 'delete',
    readonly type?: VolumeType,
    readonly name?: string,
  ) {
    super();
  }
}
