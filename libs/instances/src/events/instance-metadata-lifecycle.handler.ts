import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { EventHub } from '#operations';
import { InstanceMetadataTemplateCreatedEvent, InstanceMetadataTemplateDeletedEvent, InstanceMetadataUpdatedEvent } from './instance-metadata-events.js';

type MetadataEvent = InstanceMetadataUpdatedEvent | InstanceMetadataTemplateCreatedEvent | InstanceMetadataTemplateDeletedEvent;

const source = (name: string) => `/1.0/instances/${encodeURIComponent(name)}`;

/** LXD's lifecycle events for instance metadata and templates on /1.0/events; a template's name is `context.path`. */
@EventsHandler(InstanceMetadataUpdatedEvent, InstanceMetadataTemplateCreatedEvent, InstanceMetadataTemplateDeletedEvent)
export class InstanceMetadataLifecycleHandler implements IEventHandler<MetadataEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(event: MetadataEvent): void {
    if (event instanceof InstanceMetadataUpdatedEvent) this.hub.lifecycle('instance-metadata-updated', source(event.name));
    else if (event instanceof InstanceMetadataTemplateCreatedEvent) this.hub.lifecycle('instance-metadata-template-created', source(event.name), { path: event.path });
    else this.hub.lifecycle('instance-metadata-template-deleted', source(event.name), { path: event.path });
  }
}
