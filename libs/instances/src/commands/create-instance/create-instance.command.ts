import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/** LXD's InstancesPost body, as received. */
export class CreateInstanceCommand extends Command<OperationView> {
  constructor(readonly body: Record<string, unknown>) {
    super();
  }
}
