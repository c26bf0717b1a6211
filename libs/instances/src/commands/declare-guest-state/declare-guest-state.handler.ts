import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { DeclareGuestStateCommand } from './declare-guest-state.command.js';

@CommandHandler(DeclareGuestStateCommand)
export class DeclareGuestStateHandler implements ICommandHandler<DeclareGuestStateCommand> {
  constructor(private readonly instances: InstanceRepository, private readonly publisher: EventPublisher) {}

  async execute({ name, state }: DeclareGuestStateCommand): Promise<void> {
    const instance = await this.instances.change(name, async (i) => {
      i.declareGuestState(state);
      return 'save';
    });
    this.publisher.mergeObjectContext(instance).commit();
  }
}
