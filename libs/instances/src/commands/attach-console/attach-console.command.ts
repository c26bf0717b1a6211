import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/** POST /1.0/instances/{name}/console (LXD's InstanceConsolePost, type "console"; the size is the client's, unused by a container's console). */
export class AttachConsoleCommand extends Command<OperationView> {
  constructor(readonly name: string) {
    super();
  }
}
