import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { InstanceMetadataStore } from '#images';
import { InstanceMetadataTemplateCreatedEvent } from '../../events/instance-metadata-events.js';
import { InstanceVolumes } from '../../infrastructure/instance-volume.js';
import { SetInstanceTemplateCommand } from './set-instance-template.command.js';

@CommandHandler(SetInstanceTemplateCommand)
export class SetInstanceTemplateHandler implements ICommandHandler<SetInstanceTemplateCommand> {
  constructor(
    private readonly volumes: InstanceVolumes,
    private readonly store: InstanceMetadataStore,
    private readonly events: EventBus,
  ) {}

  async execute({ name, path, body }: SetInstanceTemplateCommand): Promise<void> {
    await this.store.writeTemplate(await this.volumes.path(name), path, body);
    this.events.publish(new InstanceMetadataTemplateCreatedEvent(name, path ?? ''));
  }
}
