import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { HOST_CAPACITY, type AppliedSetting, type HostCapacity } from '#quotas';
import type { Instance } from '../../domain/instance.js';
import type { Nic } from '../../infrastructure/container-host.js';
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

  /**
   * Records the change and, when the instance runs, plugs and unplugs its nics (and changes their
   * limits), starts or stops its proxies and applies its limits to the live cgroup before the
   * transaction commits: if any of it fails (an interface name taken inside, a listen port in use,
   * the kernel refusing a limit), the nics are put back as they were and the record is not changed
   * either. Returns what the cgroup files read back (nothing for a stopped instance).
   */
  async execute({ name, mode, changes, ifMatch }: UpdateInstanceCommand): Promise<AppliedSetting[]> {
    const resolve = await this.profiles.load();
    const ratio = await this.admission.ratio();
    let target: Instance | undefined;
    let previousNics: Nic[] = [];
    let applied: AppliedSetting[] = [];
    const instance = await this.instances.change(
      name,
      async (i) => {
        i.assertEtag(ifMatch);
        previousNics = this.containers.nics(i);
        i.update(mode, changes, resolve, this.host);
        await this.containers.checkNetworks(i);
        this.containers.assignMacs(i);
        this.containers.checkProxies(i);
        target = i;
        return 'save';
      },
      {
        admit: ratio === undefined ? undefined : (others) => this.admission.check(target!, others, ratio),
        afterWrite: async (i) => {
          if (!i.isRunning) return;
          const state = await this.containers.state(i.name);
          if (state.state === 'Stopped') return;
          const undoNics = await this.containers.syncNics(i, state.pid, previousNics);
          try {
            await this.containers.syncProxies(i, state.pid);
            applied = await this.containers.applyLimits(i, state);
          } catch (err) {
            await undoNics();
            throw err;
          }
        },
      },
    );
    this.publisher.mergeObjectContext(instance).commit();
    return applied;
  }
}
