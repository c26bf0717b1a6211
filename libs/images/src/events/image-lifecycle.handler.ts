import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import {
  ImageAliasCreatedEvent,
  ImageAliasDeletedEvent,
  ImageAliasRenamedEvent,
  ImageAliasUpdatedEvent,
  ImageCreatedEvent,
  ImageDeletedEvent,
  ImageUpdatedEvent,
} from './image-events.js';

const EVENTS = [ImageCreatedEvent, ImageUpdatedEvent, ImageDeletedEvent, ImageAliasCreatedEvent, ImageAliasUpdatedEvent, ImageAliasRenamedEvent, ImageAliasDeletedEvent] as const;
type ImageEvent = InstanceType<(typeof EVENTS)[number]>;

const alias = (name: string) => `/1.0/images/aliases/${encodeURIComponent(name)}`;

/** LXD's image lifecycle events on /1.0/events. */
@EventsHandler(...EVENTS)
export class ImageLifecycleHandler implements IEventHandler<ImageEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(e: ImageEvent): void {
    if (e instanceof ImageCreatedEvent) this.hub.lifecycle('image-created', `/1.0/images/${e.fingerprint}`);
    else if (e instanceof ImageUpdatedEvent) this.hub.lifecycle('image-updated', `/1.0/images/${e.fingerprint}`);
    else if (e instanceof ImageDeletedEvent) this.hub.lifecycle('image-deleted', `/1.0/images/${e.fingerprint}`);
    else if (e instanceof ImageAliasCreatedEvent) this.hub.lifecycle('image-alias-created', alias(e.name));
    else if (e instanceof ImageAliasUpdatedEvent) this.hub.lifecycle('image-alias-updated', alias(e.name));
    else if (e instanceof ImageAliasRenamedEvent) this.hub.lifecycle('image-alias-renamed', alias(e.name), { old_name: e.oldName });
    else this.hub.lifecycle('image-alias-deleted', alias(e.name));
  }
}
