import { Query } from '@nestjs/cqrs';
import type { OperationView } from '../../domain/operation.js';

export class WaitOperationQuery extends Query<OperationView> {
  /** `timeoutSeconds` -1 waits for as long as the operation runs. */
  constructor(readonly id: string, readonly timeoutSeconds: number) {
    super();
  }
}
