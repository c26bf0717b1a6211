import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { validateAliasName } from '../../domain/image-record.js';
import { ImageAliasRenamedEvent } from '../../events/image-events.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { RenameAliasCommand } from './rename-alias.command.js';

@CommandHandler(RenameAliasCommand)
export class RenameAliasHandler implements ICommandHandler<RenameAliasCommand> {
  constructor(private readonly images: ImageRepository, private readonly events: EventBus) {}

  async execute({ name, newName }: RenameAliasCommand): Promise<void> {
    const to = validateAliasName('name', newName);
    await this.images.updateAlias(name, { newName: to });
    this.events.publish(new ImageAliasRenamedEvent(name, to));
  }
}
