import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InUseError } from '#core';
import { StorageNotSupportedError } from '../../domain/storage.errors.js';
import { PoolViews } from '../../queries/pool-views.js';
import { DeleteStoragePoolCommand } from './delete-storage-pool.command.js';

/**
 * A pool in use is refused with LXD's answer; Berth's default pool is refused even when empty:
 * every image and instance is stored on it.
 */
@CommandHandler(DeleteStoragePoolCommand)
export class DeleteStoragePoolHandler implements ICommandHandler<DeleteStoragePoolCommand> {
  constructor(private readonly views: PoolViews) {}

  async execute({ name }: DeleteStoragePoolCommand): Promise<void> {
    const pool = await this.views.pool(name);
    if (pool.used_by.length > 0) throw new InUseError('The storage pool is currently in use', { pool: name, used_by: pool.used_by });
    throw new StorageNotSupportedError(`Cannot delete storage pool "${name}": Berth stores every image and instance on it`, undefined, { pool: name });
  }
}
