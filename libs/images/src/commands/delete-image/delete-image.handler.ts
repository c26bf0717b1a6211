import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { OperationRunner, type OperationView } from '#operations';
import { validateFingerprintPrefix } from '../../domain/image-record.js';
import { ImageDeletedEvent } from '../../events/image-events.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { ImageVolumes } from '../../infrastructure/image-volumes.js';
import { DeleteImageCommand } from './delete-image.command.js';

/** Instances cloned from an image keep their own copy; deleting the image does not touch them. */
@CommandHandler(DeleteImageCommand)
export class DeleteImageHandler implements ICommandHandler<DeleteImageCommand> {
  constructor(
    private readonly images: ImageRepository,
    private readonly volumes: ImageVolumes,
    private readonly operations: OperationRunner,
    private readonly events: EventBus,
    private readonly files: ImageFileStore,
  ) {}

  async execute({ reference }: DeleteImageCommand): Promise<OperationView> {
    const image = await this.images.resolve(validateFingerprintPrefix('fingerprint', reference));
    return this.operations.start({
      description: 'Deleting image',
      resources: { images: [`/1.0/images/${image.fingerprint}`] },
      run: async () => {
        await this.images.delete(image.id);
        await this.volumes.delete(image.fingerprint);
        await this.files.remove(image.fingerprint, image.fileKind);
        this.events.publish(new ImageDeletedEvent(image.fingerprint));
      },
    });
  }
}
