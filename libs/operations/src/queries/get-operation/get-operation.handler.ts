import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { OperationView } from '../../domain/operation.js';
import { OperationRunner } from '../../operation-runner.js';
import { GetOperationQuery } from './get-operation.query.js';

@QueryHandler(GetOperationQuery)
export class GetOperationHandler implements IQueryHandler<GetOperationQuery> {
  constructor(private readonly runner: OperationRunner) {}

  execute({ id }: GetOperationQuery): Promise<OperationView> {
    return this.runner.get(id);
  }
}
