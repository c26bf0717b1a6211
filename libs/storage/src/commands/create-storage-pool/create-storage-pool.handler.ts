import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AlreadyExistsError, ValidationError } from '#core';
import { StorageNotSupportedError } from '../../domain/storage.errors.js';
import { PoolCatalog } from '../../infrastructure/pool-catalog.js';
import { CreateStoragePoolCommand } from './create-storage-pool.command.js';

/**
 * Refuses every new pool: Berth keeps its images and instances on one pool, `default`, whose
 * driver (btrfs in a loop file, or dir) is chosen at its creation (BERTH_STORAGE_DRIVER).
 */
@CommandHandler(CreateStoragePoolCommand)
export class CreateStoragePoolHandler implements ICommandHandler<CreateStoragePoolCommand> {
  constructor(private readonly catalog: PoolCatalog) {}

  async execute({ name }: CreateStoragePoolCommand): Promise<void> {
    if (typeof name !== 'string' || name === '') throw new ValidationError('name', 'is required');
    if (this.catalog.has(name)) throw new AlreadyExistsError(`Storage pool "${name}" already exists`);
    throw new StorageNotSupportedError(`Cannot create storage pool "${name}": Berth has one storage pool, "default", and does not create others`, undefined, { pool: name });
  }
}
