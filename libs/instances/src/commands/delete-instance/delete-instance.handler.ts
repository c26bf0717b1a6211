import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { DeleteInstanceCommand } from './delete-instance.command.js';

@CommandHandler(DeleteInstanceCommand)
export class DeleteInstanceHandler implements ICommandHandler<DeleteInstanceCommand> {
  constructor(private readonly instances: InstanceRepository, private readonly publisher: EventPublisher) {}

  async execute({ name }: DeleteInstanceCommand): Promise<void> {
    const instance = await this.instances.change(name, async (i) => {
      i.delete();
      return 'delete';
    });
    this.publisher.mergeObjectContext(instance).commit();
  }
}
