import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { ImageAliasDeletedEvent } from '../../events/image-events.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { DeleteAliasCommand } from './delete-alias.command.js';

@CommandHandler(DeleteAliasCommand)
export class DeleteAliasHandler implements ICommandHandler<DeleteAliasCommand> {
  constructor(private readonly images: ImageRepository, private readonly events: EventBus) {}

  async execute({ name }: DeleteAliasCommand): Promise<void> {
    await this.images.deleteAlias(name);
    this.events.publish(new ImageAliasDeletedEvent(name));
  }
}
