import { Query } from '@nestjs/cqrs';
import type { OperationView } from '../../domain/operation.js';

export class GetOperationQuery extends Query<OperationView> {
  constructor(readonly id: string) {
    super();
  }
}
