import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import {
  InstanceCreatedEvent,
  InstanceDeletedEvent,
  InstanceExecEvent,
  InstanceOomEvent,
  InstancePausedEvent,
  InstanceReadyEvent,
  InstanceRenamedEvent,
  InstanceRestartedEvent,
  InstanceResumedEvent,
  InstanceStartedEvent,
  InstanceStoppedEvent,
  InstanceUpdatedEvent,
} from './instance-events.js';

const EVENTS = [
  InstanceCreatedEvent,
  InstanceUpdatedEvent,
  InstanceRenamedEvent,
  InstanceDeletedEvent,
  InstanceStartedEvent,
  InstanceReadyEvent,
  InstanceStoppedEvent,
  InstanceRestartedEvent,
  InstanceOomEvent,
  InstancePausedEvent,
  InstanceResumedEvent,
  InstanceExecEvent,
] as const;
type InstanceEvent = InstanceType<(typeof EVENTS)[number]>;

const source = (name: string) => `/1.0/instances/${encodeURIComponent(name)}`;

/**
 * Publishes LXD's instance lifecycle events on /1.0/events, and Berth's `instance-oom` (LXD has
 * none): `context.killed` processes were OOM-killed inside, `context.total` in the container's
 * current cgroup so far.
 */
@EventsHandler(...EVENTS)
export class InstanceLifecycleHandler implements IEventHandler<InstanceEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(event: InstanceEvent): void {
    if (event instanceof InstanceCreatedEvent) this.hub.lifecycle('instance-created', source(event.name));
    else if (event instanceof InstanceUpdatedEvent) this.hub.lifecycle('instance-updated', source(event.name));
    else if (event instanceof InstanceRenamedEvent) this.hub.lifecycle('instance-renamed', source(event.name), { old_name: event.oldName });
    else if (event instanceof InstanceDeletedEvent) this.hub.lifecycle('instance-deleted', source(event.name));
    else if (event instanceof InstanceStartedEvent) this.hub.lifecycle('instance-started', source(event.name));
    else if (event instanceof InstanceReadyEvent) this.hub.lifecycle('instance-ready', source(event.name), { ready_ms: event.readyMs });
    else if (event instanceof InstanceStoppedEvent) this.hub.lifecycle('instance-stopped', source(event.name), event.exit ? { exit: event.exit } : {});
    else if (event instanceof InstanceRestartedEvent) this.hub.lifecycle('instance-restarted', source(event.name));
    else if (event instanceof InstanceOomEvent) this.hub.lifecycle('instance-oom', source(event.name), { killed: event.killed, total: event.total });
    else if (event instanceof InstancePausedEvent) this.hub.lifecycle('instance-paused', source(event.name));
    else if (event instanceof InstanceResumedEvent) this.hub.lifecycle('instance-resumed', source(event.name));
    else this.hub.lifecycle('instance-exec', source(event.name), { command: event.command });
  }
}
