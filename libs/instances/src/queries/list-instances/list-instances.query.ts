import { Query } from '@nestjs/cqrs';
import type { InstanceView } from '../../domain/instance.js';

export class ListInstancesQuery extends Query<string[] | InstanceView[]> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}
