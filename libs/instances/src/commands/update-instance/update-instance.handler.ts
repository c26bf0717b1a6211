import { Inject } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { InstanceNics, InstanceProxies } from '#network';
import { CgroupLimits, HOST_CAPACITY, type AppliedSetting, type HostCapacity } from '#quotas';
import { Runtime } from '#runtime';
import { DefaultPool, PoolCatalog } from '#storage';
import { checkRootPool, type Devices } from '../../domain/expanded.js';
import type { Instance } from '../../domain/instance.js';
import { Admission } from '../../infrastructure/admission.js';
import { syncDeviceMounts } from '../../infrastructure/device-sync.js';
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
    private readonly runtime: Runtime,
    private readonly nics: InstanceNics,
    private readonly proxies: InstanceProxies,
    private readonly limits: CgroupLimits,
    private readonly pool: DefaultPool,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
    private readonly pools: PoolCatalog,
  ) {}

  /**
   * Records the change and, when the instance runs, plugs and unplugs its nics (and changes their
   * limits), binds and detaches its disks and unix devices, starts or stops its proxies and
   * applies its limits to the live cgroup before the transaction commits: if any of it fails (an
   * interface name taken inside, a listen port in use, a missing disk source, the kernel refusing
   * a limit), the nics and devices are put back as they were and the record is not changed either. Returns what the cgroup files read back (nothing for a stopped instance).
   */
  async execute({ name, mode, changes, ifMatch }: UpdateInstanceCommand): Promise<AppliedSetting[]> {
    const resolve = await this.profiles.load();
    const ratio = await this.admission.ratio();
    let target: Instance | undefined;
    let previousDevices: Devices = {};
    let applied: AppliedSetting[] = [];
    const instance = await this.instances.change(
      name,
      async (i) => {
        i.assertEtag(ifMatch);
        previousDevices = i.expanded.devices;
        const previousConfig = i.expanded.config;
        i.update(mode, changes, resolve, this.capacity);
        checkRootPool(i.expanded.devices, (pool) => this.pools.has(pool));
        i.renewCloudInitId(previousConfig);
        await this.nics.check(i.name, i.expanded.devices, () => this.instances.othersDevices(i.name));
        i.applyVolatile(this.nics.assignMacs(i.expanded.devices, i.state.volatile));
        this.proxies.check(i.expanded.devices);
        target = i;
        return 'save';
      },
      {
        admit: (others) => this.admission.check(target!, others, ratio),
        afterWrite: async (i) => {
          if (!i.isRunning) return;
          const state = await this.runtime.state(i.name);
          if (state.state === 'Stopped') return;
          i.ensureUuid(); // an instance started before uuids were given gets one: its nics' host ends are named after it
          const nics = await this.nics.sync(i.nicHolder(), state.pid, previousDevices);
          let undoDevices = async () => undefined as void;
          try {
            i.applyVolatile(nics.volatile);
            undoDevices = await syncDeviceMounts(this.runtime, i.name, previousDevices, i.expanded.devices);
            await this.proxies.sync(i.name, state.pid, i.expanded.devices);
            const pool = await this.pool.get();
            applied = await this.limits.reapply({ instance: i.name, quota: i.limits(this.capacity), backing: () => pool.blockDevice(), running: state });
          } catch (err) {
            await undoDevices();
            await nics.undo();
            throw err;
          }
        },
      },
    );
    this.publisher.mergeObjectContext(instance).commit();
    return applied;
  }
}
