import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import { ProfileCreatedEvent, ProfileDeletedEvent, ProfileRenamedEvent, ProfileUpdatedEvent } from './profile-events.js';

type ProfileEvent = ProfileCreatedEvent | ProfileUpdatedEvent | ProfileRenamedEvent | ProfileDeletedEvent;

const source = (name: string) => `/1.0/profiles/${encodeURIComponent(name)}`;

/** Publishes LXD's lifecycle events (`profile-created`, ...) on /1.0/events. */
@EventsHandler(ProfileCreatedEvent, ProfileUpdatedEvent, ProfileRenamedEvent, ProfileDeletedEvent)
export class ProfileLifecycleHandler implements IEventHandler<ProfileEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(event: ProfileEvent): void {
    if (event instanceof ProfileCreatedEvent) this.hub.lifecycle('profile-created', source(event.name));
    else if (event instanceof ProfileUpdatedEvent) this.hub.lifecycle('profile-updated', source(event.name));
    else if (event instanceof ProfileRenamedEvent) this.hub.lifecycle('profile-renamed', source(event.name), { old_name: event.oldName });
    else this.hub.lifecycle('profile-deleted', source(event.name));
  }
}
