import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import { NetworkChangedEvent } from './network-changed.event.js';

@EventsHandler(NetworkChangedEvent)
export class NetworkLifecycleHandler implements IEventHandler<NetworkChangedEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(e: NetworkChangedEvent): void {
    this.hub.lifecycle(e.action, `/1.0/networks/${encodeURIComponent(e.name)}`, e.context);
  }
}
