import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { WarningChangedEvent } from '../../events/warning-changed.event.js';
import { WarningRepository } from '../../infrastructure/warning.repository.js';
import { DeleteWarningCommand } from './delete-warning.command.js';

@CommandHandler(DeleteWarningCommand)
export class DeleteWarningHandler implements ICommandHandler<DeleteWarningCommand> {
  constructor(private readonly warnings: WarningRepository, private readonly events: EventBus) {}

  async execute({ uuid }: DeleteWarningCommand): Promise<void> {
    await this.warnings.delete(uuid);
    this.events.publish(new WarningChangedEvent('warning-deleted', uuid));
  }
}
