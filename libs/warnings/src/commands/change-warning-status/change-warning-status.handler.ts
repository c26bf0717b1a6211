import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { requestedStatus } from '../../domain/warning.js';
import { WarningChangedEvent } from '../../events/warning-changed.event.js';
import { WarningRepository } from '../../infrastructure/warning.repository.js';
import { ChangeWarningStatusCommand } from './change-warning-status.command.js';

@CommandHandler(ChangeWarningStatusCommand)
export class ChangeWarningStatusHandler implements ICommandHandler<ChangeWarningStatusCommand> {
  constructor(private readonly warnings: WarningRepository, private readonly events: EventBus) {}

  async execute({ uuid, status }: ChangeWarningStatusCommand): Promise<void> {
    const wanted = requestedStatus(status);
    await this.warnings.setStatus(uuid, wanted);
    this.events.publish(new WarningChangedEvent(wanted === 'acknowledged' ? 'warning-acknowledged' : 'warning-reset', uuid));
  }
}
