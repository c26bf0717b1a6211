import { Query } from '@nestjs/cqrs';
import type { ConfigLayer } from '../../domain/expanded.js';
import type { InstanceDefinition } from '../../domain/instance.js';

/**
 * The expanded config and devices an instance made from this InstancesPost would have (its
 * profiles in order, then its own keys), checked as a create checks them; nothing is recorded.
 * It does not say whether the name is free.
 */
export class PreviewInstanceQuery extends Query<ConfigLayer> {
  constructor(readonly request: InstanceDefinition) {
    super();
  }
}
