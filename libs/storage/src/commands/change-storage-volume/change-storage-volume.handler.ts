import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StorageNotSupportedError } from '../../domain/storage.errors.js';
import { PoolCatalog } from '../../infrastructure/pool-catalog.js';
import { PoolViews } from '../../queries/pool-views.js';
import { ChangeStorageVolumeCommand } from './change-storage-volume.command.js';

@CommandHandler(ChangeStorageVolumeCommand)
export class ChangeStorageVolumeHandler implements ICommandHandler<ChangeStorageVolumeCommand> {
  constructor(private readonly catalog: PoolCatalog, private readonly views: PoolViews) {}

  async execute({ pool, action, type, name }: ChangeStorageVolumeCommand): Promise<void> {
    await this.catalog.open(pool);
    if (action === 'create') {
      throw new StorageNotSupportedError(`Cannot create a ${type ?? 'custom'} storage volume: Berth has no custom volumes; instances and images make their own`, undefined, { pool });
    }
    const volume = await this.views.volume(pool, type ?? 'custom', name ?? '');
    const owner = volume.type === 'image' ? 'its image' : 'its instance';
    throw new StorageNotSupportedError(`Cannot ${action} storage volume "${volume.name}" of type "${volume.type}" through the storage API: it follows ${owner}`, undefined, { pool, type: volume.type, name: volume.name });
  }
}
