import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/** POST /1.0/instances/{name}/console (LXD's InstanceConsolePost: type, width, height). */
export class AttachConsoleCommand extends Command<OperationView> {
  constructor(readonly name: string, readonly body: Record<string, unknown>) {
    super();
  }
}
