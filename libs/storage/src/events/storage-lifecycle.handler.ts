import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import { poolUrl } from '../domain/pool-view.js';
import { StoragePoolUpdatedEvent } from './storage-pool-changed.event.js';

@EventsHandler(StoragePoolUpdatedEvent)
export class StorageLifecycleHandler implements IEventHandler<StoragePoolUpdatedEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(e: StoragePoolUpdatedEvent): void {
    this.hub.lifecycle('storage-pool-updated', poolUrl(e.name), {});
  }
}
