import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { ValidationError, validateDescription } from '#core';
import { validateAliasName, validateFingerprintPrefix } from '../../domain/image-record.js';
import { ImageAliasCreatedEvent } from '../../events/image-events.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { CreateAliasCommand } from './create-alias.command.js';

@CommandHandler(CreateAliasCommand)
export class CreateAliasHandler implements ICommandHandler<CreateAliasCommand> {
  constructor(private readonly images: ImageRepository, private readonly events: EventBus) {}

  async execute({ name, target, description }: CreateAliasCommand): Promise<void> {
    const alias = validateAliasName('name', name);
    if (typeof target !== 'string') throw new ValidationError('target', 'must be an image fingerprint');
    const image = await this.images.resolve(validateFingerprintPrefix('target', target));
    await this.images.createAlias(alias, image.id, validateDescription(description));
    this.events.publish(new ImageAliasCreatedEvent(alias));
  }
}
