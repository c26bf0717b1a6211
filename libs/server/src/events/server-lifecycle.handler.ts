import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import { ServerConfigUpdatedEvent } from './server-config-updated.event.js';

@EventsHandler(ServerConfigUpdatedEvent)
export class ServerLifecycleHandler implements IEventHandler<ServerConfigUpdatedEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(): void {
    this.hub.lifecycle('config-updated', '/1.0');
  }
}
