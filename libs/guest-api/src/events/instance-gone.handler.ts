import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { InstanceDeletedEvent, InstanceRenamedEvent } from '#instances';
import { DevlxdSockets } from '../devlxd/devlxd-sockets.js';

/** A deleted instance's guest API socket goes; a renamed (stopped) one gets its new one at its next start. */
@EventsHandler(InstanceDeletedEvent, InstanceRenamedEvent)
export class InstanceGoneHandler implements IEventHandler<InstanceDeletedEvent | InstanceRenamedEvent> {
  constructor(private readonly sockets: DevlxdSockets) {}

  async handle(event: InstanceDeletedEvent | InstanceRenamedEvent): Promise<void> {
    await this.sockets.remove(event instanceof InstanceRenamedEvent ? event.oldName : event.name);
  }
}
