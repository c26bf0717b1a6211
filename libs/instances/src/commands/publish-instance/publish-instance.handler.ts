import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ImagePublisher } from '#images';
import { OperationRunner, type OperationView } from '#operations';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { PublishInstanceCommand } from './publish-instance.command.js';

/**
 * Publishes a stopped instance as an image. The aggregate says whether it may be published (at
 * once, and again in the operation under the instance's lock, which then keeps it from being
 * started while images packs its volume); images packs and imports it.
 */
@CommandHandler(PublishInstanceCommand)
export class PublishInstanceHandler implements ICommandHandler<PublishInstanceCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly operations: OperationRunner,
    private readonly images: ImagePublisher,
  ) {}

  async execute({ name, options }: PublishInstanceCommand): Promise<OperationView> {
    (await this.instances.get(name)).assertPublishable();
    return this.operations.start({
      description: 'Publishing instance',
      resources: { instances: [`/1.0/instances/${name}`], containers: [`/1.0/containers/${name}`] },
      cancellable: true,
      run: (ctx) =>
        this.instances.withLock(name, async () => {
          const instance = await this.instances.get(name);
          instance.assertPublishable();
          return this.images.publish(instance.publishSource(), options, ctx);
        }),
    });
  }
}
