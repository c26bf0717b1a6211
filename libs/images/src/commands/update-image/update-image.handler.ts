import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { validateFingerprintPrefix, validateProperties } from '../../domain/image-record.js';
import { ImageUpdatedEvent } from '../../events/image-events.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { UpdateImageCommand } from './update-image.command.js';

const bool = (field: string, v: unknown) => {
  if (typeof v !== 'boolean') throw new ValidationError(field, 'must be true or false');
  return v;
};

@CommandHandler(UpdateImageCommand)
export class UpdateImageHandler implements ICommandHandler<UpdateImageCommand> {
  constructor(private readonly images: ImageRepository, private readonly events: EventBus) {}

  async execute({ reference, mode, changes }: UpdateImageCommand): Promise<void> {
    const image = await this.images.resolve(validateFingerprintPrefix('fingerprint', reference));
    const merge = mode === 'merge';
    const next = {
      public: changes.public === undefined && merge ? image.public : bool('public', changes.public ?? false),
      autoUpdate: changes.auto_update === undefined && merge ? image.autoUpdate : bool('auto_update', changes.auto_update ?? false),
      properties: changes.properties === undefined && merge ? image.properties : merge ? { ...image.properties, ...validateProperties(changes.properties) } : validateProperties(changes.properties),
      expiresAt: image.expiresAt,
    };
    if (changes.expires_at !== undefined) {
      const when = new Date(String(changes.expires_at));
      if (typeof changes.expires_at !== 'string' || Number.isNaN(when.getTime())) throw new ValidationError('expires_at', 'must be an RFC 3339 date');
      next.expiresAt = when.getTime() <= 0 ? null : when;
    }
    await this.images.update(image.fingerprint, next);
    this.events.publish(new ImageUpdatedEvent(image.fingerprint));
  }
}
