import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { ValidationError, validateDescription } from '#core';
import { validateFingerprintPrefix } from '../../domain/image-record.js';
import { ImageAliasUpdatedEvent } from '../../events/image-events.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { UpdateAliasCommand } from './update-alias.command.js';

@CommandHandler(UpdateAliasCommand)
export class UpdateAliasHandler implements ICommandHandler<UpdateAliasCommand> {
  constructor(private readonly images: ImageRepository, private readonly events: EventBus) {}

  async execute({ name, mode, target, description }: UpdateAliasCommand): Promise<void> {
    let imageId: string | undefined;
    if (target !== undefined || mode === 'replace') {
      if (typeof target !== 'string') throw new ValidationError('target', 'must be an image fingerprint');
      imageId = (await this.images.resolve(validateFingerprintPrefix('target', target))).id;
    }
    await this.images.updateAlias(name, {
      imageId,
      description: description === undefined && mode === 'merge' ? undefined : validateDescription(description),
    });
    this.events.publish(new ImageAliasUpdatedEvent(name));
  }
}
