import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { HOST_WARNING_TYPES, hostWarnings } from '../../domain/host-warnings.js';
import { HostProbe } from '../../infrastructure/host-probe.js';
import { WarningRepository, type CheckOutcome } from '../../infrastructure/warning.repository.js';
import { CheckHostCommand } from './check-host.command.js';

@CommandHandler(CheckHostCommand)
export class CheckHostHandler implements ICommandHandler<CheckHostCommand> {
  constructor(private readonly probe: HostProbe, private readonly warnings: WarningRepository) {}

  async execute(): Promise<CheckOutcome> {
    return this.warnings.recordCheck(HOST_WARNING_TYPES, hostWarnings(await this.probe.facts()));
  }
}
