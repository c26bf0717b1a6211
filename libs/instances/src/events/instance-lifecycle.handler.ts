import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import { InstanceCreatedEvent, InstanceDeletedEvent, InstanceRenamedEvent, InstanceUpdatedEvent } from './instance-events.js';

type InstanceEvent = InstanceCreatedEvent | InstanceUpdatedEvent | InstanceRenamedEvent | InstanceDeletedEvent;

const source = (name: string) => `/1.0/instances/${encodeURIComponent(name)}`;

/** Publishes LXD's instance lifecycle events on /1.0/events. */
@EventsHandler(InstanceCreatedEvent, InstanceUpdatedEvent, InstanceRenamedEvent, InstanceDeletedEvent)
export class InstanceLifecycleHandler implements IEventHandler<InstanceEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(event: InstanceEvent): void {
    if (event instanceof InstanceCreatedEvent) this.hub.lifecycle('instance-created', source(event.name));
    else if (event instanceof InstanceUpdatedEvent) this.hub.lifecycle('instance-updated', source(event.name));
    else if (event instanceof InstanceRenamedEvent) this.hub.lifecycle('instance-renamed', source(event.name), { old_name: event.oldName });
    else this.hub.lifecycle('instance-deleted', source(event.name));
  }
}
