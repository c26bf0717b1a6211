import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { InstanceMetadataStore } from '#images';
import { InstanceMetadataTemplateDeletedEvent } from '../../events/instance-metadata-events.js';
import { InstanceVolumes } from '../../infrastructure/instance-volume.js';
import { DeleteInstanceTemplateCommand } from './delete-instance-template.command.js';

@CommandHandler(DeleteInstanceTemplateCommand)
export class DeleteInstanceTemplateHandler implements ICommandHandler<DeleteInstanceTemplateCommand> {
  constructor(
    private readonly volumes: InstanceVolumes,
    private readonly store: InstanceMetadataStore,
    private readonly events: EventBus,
  ) {}

  async execute({ name, path }: DeleteInstanceTemplateCommand): Promise<void> {
    await this.store.deleteTemplate(await this.volumes.path(name), path);
    this.events.publish(new InstanceMetadataTemplateDeletedEvent(name, path ?? ''));
  }
}
