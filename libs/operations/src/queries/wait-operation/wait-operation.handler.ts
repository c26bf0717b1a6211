import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { OperationView } from '../../domain/operation.js';
import { OperationRunner } from '../../operation-runner.js';
import { WaitOperationQuery } from './wait-operation.query.js';

@QueryHandler(WaitOperationQuery)
export class WaitOperationHandler implements IQueryHandler<WaitOperationQuery> {
  constructor(private readonly runner: OperationRunner) {}

  execute({ id, timeoutSeconds }: WaitOperationQuery): Promise<OperationView> {
    return this.runner.wait(id, timeoutSeconds);
  }
}
