import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';
import type { InstanceDefinition } from '../../domain/instance.js';
import type { InstanceSource } from '../../domain/source.js';

/** LXD's InstancesPost, parsed: the instance's fields (the aggregate checks them), where its root comes from, whether to start it. */
export class CreateInstanceCommand extends Command<OperationView> {
  constructor(
    readonly definition: InstanceDefinition,
    readonly source: InstanceSource,
    readonly start = false,
  ) {
    super();
  }
}
