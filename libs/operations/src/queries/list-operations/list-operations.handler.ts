import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { OperationRunner } from '../../operation-runner.js';
import { ListOperationsQuery, type OperationsByStatus } from './list-operations.query.js';

@QueryHandler(ListOperationsQuery)
export class ListOperationsHandler implements IQueryHandler<ListOperationsQuery> {
  constructor(private readonly runner: OperationRunner) {}

  async execute({ recursion }: ListOperationsQuery): Promise<OperationsByStatus> {
    const grouped: OperationsByStatus = {};
    for (const op of await this.runner.list()) {
      (grouped[op.status.toLowerCase()] ??= []).push(recursion === 1 ? op : OperationRunner.url(op.id));
    }
    return grouped;
  }
}
