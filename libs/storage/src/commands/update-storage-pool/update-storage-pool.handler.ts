import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { validateDescription } from '#core';
import { assertPoolEtag, updatedPoolConfig } from '../../domain/pool-view.js';
import { StoragePoolUpdatedEvent } from '../../events/storage-pool-changed.event.js';
import { PoolCatalog } from '../../infrastructure/pool-catalog.js';
import { StoragePoolRepository } from '../../infrastructure/storage-pool.repository.js';
import { UpdateStoragePoolCommand } from './update-storage-pool.command.js';

/**
 * Writes a pool's description and user.* keys; its driver's keys (`source`, `size`) are only
 * accepted unchanged. A refused update writes nothing.
 */
@CommandHandler(UpdateStoragePoolCommand)
export class UpdateStoragePoolHandler implements ICommandHandler<UpdateStoragePoolCommand> {
  constructor(private readonly catalog: PoolCatalog, private readonly repository: StoragePoolRepository, private readonly events: EventBus) {}

  async execute({ name, mode, changes, ifMatch }: UpdateStoragePoolCommand): Promise<void> {
    const driver = await this.catalog.open(name);
    const fixed = await this.catalog.driverConfig(driver);
    await this.repository.change(name, (current) => {
      assertPoolEtag({ name, driver: driver.driver, description: current.description, config: { ...current.config, ...fixed } }, ifMatch);
      const description = mode === 'replace' || changes.description !== undefined ? validateDescription(changes.description) : current.description;
      return { description, config: updatedPoolConfig(mode, current.config, fixed, changes.config) };
    });
    this.events.publish(new StoragePoolUpdatedEvent(name));
  }
}
