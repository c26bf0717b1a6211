import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

export type StateAction = 'start' | 'stop' | 'restart' | 'freeze' | 'unfreeze';

/** PUT /1.0/instances/{name}/state: `{action, timeout, force}` (LXD's InstanceStatePut). */
export class ChangeInstanceStateCommand extends Command<OperationView> {
  constructor(readonly name: string, readonly body: Record<string, unknown>) {
    super();
  }
}
