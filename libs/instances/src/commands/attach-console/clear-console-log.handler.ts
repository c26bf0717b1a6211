import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ConsoleLogs } from '../../infrastructure/exec-logs.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ClearConsoleLogCommand } from './clear-console-log.command.js';

@CommandHandler(ClearConsoleLogCommand)
export class ClearConsoleLogHandler implements ICommandHandler<ClearConsoleLogCommand> {
  constructor(private readonly instances: InstanceRepository, private readonly logs: ConsoleLogs) {}

  async execute({ name }: ClearConsoleLogCommand): Promise<void> {
    await this.instances.get(name);
    await this.logs.clear(name);
  }
}
