import { Query } from '@nestjs/cqrs';
import type { InstanceStateView } from '../../domain/instance-state.js';

export class GetInstanceStateQuery extends Query<InstanceStateView> {
  constructor(readonly name: string) {
    super();
  }
}
