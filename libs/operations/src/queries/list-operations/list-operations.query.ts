import { Query } from '@nestjs/cqrs';
import type { OperationView } from '../../domain/operation.js';

/** LXD groups operations by lower-cased status: `{running: [...], success: [...]}`. */
export type OperationsByStatus = Record<string, Array<string | OperationView>>;

export class ListOperationsQuery extends Query<OperationsByStatus> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}
