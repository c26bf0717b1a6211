import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { OperationView } from '../../domain/operation.js';
import { OperationRunner } from '../../operation-runner.js';
import { CancelOperationCommand } from './cancel-operation.command.js';

@CommandHandler(CancelOperationCommand)
export class CancelOperationHandler implements ICommandHandler<CancelOperationCommand> {
  constructor(private readonly runner: OperationRunner) {}

  execute({ id }: CancelOperationCommand): Promise<OperationView> {
    return this.runner.cancel(id);
  }
}
