import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { DefaultPool } from '#storage';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { RenameInstanceCommand } from './rename-instance.command.js';

@CommandHandler(RenameInstanceCommand)
export class RenameInstanceHandler implements ICommandHandler<RenameInstanceCommand> {
  constructor(private readonly instances: InstanceRepository, private readonly pool: DefaultPool, private readonly publisher: EventPublisher) {}

  async execute({ name, newName }: RenameInstanceCommand): Promise<void> {
    const instance = await this.instances.change(
      name,
      async (i) => {
        i.rename(newName);
        i.renewCloudInitId(null);
        return 'save';
      },
      { afterWrite: async (i) => void (await (await this.pool.get()).renameInstanceVolume(name, i.name)) },
    );
    this.publisher.mergeObjectContext(instance).commit();
  }
}
