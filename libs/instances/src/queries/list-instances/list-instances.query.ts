import { Query } from '@nestjs/cqrs';
import type { Filter } from '#core';
import type { InstanceView } from '../../domain/instance.js';
import type { InstanceStateView } from '../../domain/instance-state.js';

/** LXD's InstanceFull: the instance with its state, snapshots and backups (recursion=2). */
export type InstanceFullView = InstanceView & { state: InstanceStateView; snapshots: unknown[]; backups: unknown[] };

export class ListInstancesQuery extends Query<string[] | InstanceView[] | InstanceFullView[]> {
  constructor(readonly recursion: 0 | 1 | 2, readonly filter?: Filter) {
    super();
  }
}
