import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { HoldInstanceCommand, ReleaseInstanceCommand } from './hold-instance.command.js';

@CommandHandler(HoldInstanceCommand)
export class HoldInstanceHandler implements ICommandHandler<HoldInstanceCommand> {
  constructor(private readonly instances: InstanceRepository) {}

  async execute({ name, reason }: HoldInstanceCommand): Promise<void> {
    await this.instances.change(name, async (i) => {
      i.hold(reason);
      return 'save';
    });
  }
}

@CommandHandler(ReleaseInstanceCommand)
export class ReleaseInstanceHandler implements ICommandHandler<ReleaseInstanceCommand> {
  constructor(private readonly instances: InstanceRepository) {}

  async execute({ name }: ReleaseInstanceCommand): Promise<void> {
    await this.instances.change(name, async (i) => {
      i.release();
      return 'save';
    });
  }
}
