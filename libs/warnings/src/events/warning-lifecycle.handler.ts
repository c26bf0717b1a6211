import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import { WarningChangedEvent } from './warning-changed.event.js';

/** Puts warning changes on /1.0/events as LXD's lifecycle events. */
@EventsHandler(WarningChangedEvent)
export class WarningLifecycleHandler implements IEventHandler<WarningChangedEvent> {
  constructor(private readonly hub: EventHub) {}

  handle({ action, uuid }: WarningChangedEvent): void {
    this.hub.lifecycle(action, `/1.0/warnings/${uuid}`);
  }
}
