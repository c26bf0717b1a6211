import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { validateServerConfig } from '../../domain/server-config.js';
import { ServerConfigUpdatedEvent } from '../../events/server-config-updated.event.js';
import { ServerConfigRepository } from '../../infrastructure/server-config.repository.js';
import { UpdateServerConfigCommand } from './update-server-config.command.js';

@CommandHandler(UpdateServerConfigCommand)
export class UpdateServerConfigHandler implements ICommandHandler<UpdateServerConfigCommand> {
  constructor(private readonly repository: ServerConfigRepository, private readonly events: EventBus) {}

  async execute({ mode, config }: UpdateServerConfigCommand): Promise<void> {
    const requested = validateServerConfig(config);
    let next = requested;
    if (mode === 'merge') {
      next = { ...(await this.repository.get()), ...requested };
      for (const [key, value] of Object.entries(config)) if (value === '') delete next[key];
    }
    await this.repository.replace(next);
    this.events.publish(new ServerConfigUpdatedEvent(Object.keys(next)));
  }
}
