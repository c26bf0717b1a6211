import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/** POST /1.0/instances/{name}/exec (LXD's InstanceExecPost). */
export class ExecInInstanceCommand extends Command<OperationView> {
  constructor(readonly name: string, readonly body: Record<string, unknown>) {
    super();
  }
}
