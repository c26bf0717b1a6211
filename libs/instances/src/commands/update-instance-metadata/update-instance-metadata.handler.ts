import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { PreconditionFailedError } from '#core';
import { InstanceMetadataStore, mergeApiMetadata } from '#images';
import { InstanceMetadataUpdatedEvent } from '../../events/instance-metadata-events.js';
import { InstanceVolumes } from '../../infrastructure/instance-volume.js';
import { metadataEtag } from '../../queries/get-instance-metadata/get-instance-metadata.handler.js';
import { UpdateInstanceMetadataCommand } from './update-instance-metadata.command.js';

/** Validates the new metadata whole (naming the bad field) before metadata.yaml is replaced, atomically. */
@CommandHandler(UpdateInstanceMetadataCommand)
export class UpdateInstanceMetadataHandler implements ICommandHandler<UpdateInstanceMetadataCommand> {
  constructor(
    private readonly volumes: InstanceVolumes,
    private readonly store: InstanceMetadataStore,
    private readonly events: EventBus,
  ) {}

  async execute({ name, mode, body, ifMatch }: UpdateInstanceMetadataCommand): Promise<void> {
    const volume = await this.volumes.path(name);
    const needsCurrent = mode === 'merge' || (ifMatch !== undefined && ifMatch !== '');
    const current = needsCurrent ? await this.store.read(volume) : undefined;
    if (current && ifMatch && ifMatch.replace(/^"|"$/g, '') !== metadataEtag(current)) {
      throw new PreconditionFailedError(`The metadata of instance "${name}" was changed since it was read (If-Match does not match the current ETag)`);
    }
    await this.store.write(volume, mode === 'merge' ? mergeApiMetadata(current!, body) : body);
    this.events.publish(new InstanceMetadataUpdatedEvent(name));
  }
}
