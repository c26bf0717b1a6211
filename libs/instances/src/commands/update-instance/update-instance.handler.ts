import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { HOST_CAPACITY, type HostCapacity } from '#quotas';
import type { Instance } from '../../domain/instance.js';
import { Admission } from '../../infrastructure/admission.js';
import { ContainerHost } from '../../infrastructure/container-host.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ProfileResolver } from '../../infrastructure/profile-resolver.js';
import { UpdateInstanceCommand } from './update-instance.command.js';

@CommandHandler(UpdateInstanceCommand)
export class UpdateInstanceHandler implements ICommandHandler<UpdateInstanceCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly profiles: ProfileResolver,
    private readonly publisher: EventPublisher,
    private readonly admission: Admission,
    private readonly containers: ContainerHost,
    @Inject(HOST_CAPACITY) private readonly host: HostCapacity,
  ) {}

  async execute({ name, mode, changes, ifMatch }: UpdateInstanceCommand): Promise<void> {
    const resolve = await this.profiles.load();
    const ratio = await this.admission.ratio();
    let target: Instance | undefined;
    const instance = await this.instances.change(
      name,
      async (i) => {
        i.assertEtag(ifMatch);
        i.update(mode, changes, resolve, this.host);
        await this.containers.checkNetworks(i);
        target = i;
        return 'save';
      },
      { admit: ratio === undefined ? undefined : (others) => this.admission.check(target!, others, ratio) },
    );
    this.publisher.mergeObjectContext(instance).commit();
  }
}
