import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';
import type { StateAction } from '../../domain/instance.js';

export type { StateAction } from '../../domain/instance.js';

/** PUT /1.0/instances/{name}/state (LXD's InstanceStatePut), validated at the edge. */
export class ChangeInstanceStateCommand extends Command<OperationView> {
  constructor(
    readonly name: string,
    readonly action: StateAction,
    /** Seconds systemd gets to halt before the container is killed (stop, restart). */
    readonly timeout = 30,
    /** Kill at once instead of asking systemd to halt. */
    readonly force = false,
  ) {
    super();
  }
}
