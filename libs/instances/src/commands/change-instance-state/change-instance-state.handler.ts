import { join } from 'node:path';
import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { haltSignalOf, LOGGER, TestHooks, type Logger } from '#core';
import { InstanceTemplates } from '#images';
import { InstanceNics, InstanceProxies } from '#network';
import { OperationRunner, type OperationView } from '#operations';
import { CgroupLimits, CgroupWriteError, HOST_CAPACITY, type HostCapacity } from '#quotas';
import { CgroupLimitError, lxcfsMount, Runtime } from '#runtime';
import { DefaultPool } from '#storage';
import { deviceMounts } from '../../domain/device-mounts.js';
import type { Instance, StateAction } from '../../domain/instance.js';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { Admission } from '../../infrastructure/admission.js';
import { IdMaps } from '../../infrastructure/id-maps.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { PluggedInits } from '../../infrastructure/plugged-inits.js';
import { GuestApiPort } from '../../infrastructure/guest-api.port.js';
import { HostTeardown } from '../../infrastructure/host-teardown.js';
import { ChangeInstanceStateCommand } from './change-instance-state.command.js';

const DESCRIPTIONS: Record<StateAction, string> = {
  start: 'Starting instance',
  stop: 'Stopping instance',
  restart: 'Restarting instance',
  freeze: 'Freezing instance',
  unfreeze: 'Unfreezing instance',
};

/**
 * Starts, stops and freezes containers. The aggregate decides whether the action is allowed (at
 * once: a start of a running instance is refused without an operation, and again under the
 * instance's lock); the operation then calls the ports in order and hands what each returns back
 * to the aggregate, which is saved.
 */
@CommandHandler(ChangeInstanceStateCommand)
export class ChangeInstanceStateHandler implements ICommandHandler<ChangeInstanceStateCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly operations: OperationRunner,
    private readonly publisher: EventPublisher,
    private readonly runtime: Runtime,
    private readonly pool: DefaultPool,
    private readonly templates: InstanceTemplates,
    private readonly limits: CgroupLimits,
    private readonly nics: InstanceNics,
    private readonly proxies: InstanceProxies,
    private readonly idmaps: IdMaps,
    private readonly inits: PluggedInits,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly hooks: TestHooks,
    private readonly admission: Admission,
    private readonly teardown: HostTeardown,
    @Optional() private readonly guestApi?: GuestApiPort,
  ) {}

  async execute({ name, action, timeout, force }: ChangeInstanceStateCommand): Promise<OperationView> {
    (await this.instances.get(name)).assertCan(action);
    return this.operations.start({
      description: DESCRIPTIONS[action],
      resources: { instances: [`/1.0/instances/${name}`] },
      run: () =>
        this.instances.withLock(name, async () => {
          if (action === 'freeze' || action === 'unfreeze') return this.freeze(name, action === 'freeze');
          if (action === 'stop' || action === 'restart') await this.stop(name, timeout, force);
          if (action === 'start' || action === 'restart') await this.start(name);
        }),
    });
  }

  /**
   * Storage gives the root, images render the `start` templates into it, quotas turn the limits
   * into cgroup writes (the monitor makes them before init runs), the runtime starts the container,
   * network plugs its nics while init boots (systemd-networkd or ifupdown take them as they
   * appear) and starts its proxies, quotas apply the limits to the live cgroup: the instance is
   * Running, whatever its init, and the operation ends. systemd's READY=1 comes when it comes (the
   * reconciler announces it). A failure at any step removes the container, its nics and its
   * proxies: the instance is Stopped as before.
   */
  private async start(name: string): Promise<void> {
    const instance = this.publisher.mergeObjectContext(await this.instances.get(name));
    // Admitted one start at a time: the Starting record is what the next start counts.
    await this.admission.forStart(instance, async () => {
      instance.beginStart();
      // MACs are given (and kept) before anything is plugged: a failed plug must not lose them.
      instance.applyVolatile(this.nics.assignMacs(instance.expanded.devices, instance.state.volatile));
      await this.instances.saveState(instance);
    });
    try {
      await this.hooks.reach('instance-start.recorded');
      const pool = await this.pool.get();
      const volume = pool.instanceVolumePath(name);
      await this.templates.render(volume, 'start', instance.templateContext());
      const plan = await this.limits.plan({ instance: name, quota: instance.limits(this.capacity), backing: () => pool.blockDevice() });
      let idmap: { hostId: number; count: number } | null = null;
      if (!instance.privileged) {
        idmap = await this.idmaps.reserve(name, instance.sharesIdmap);
        instance.recordIdmap(idmap.hostId);
      }
      const started = await this.runtime
        .start({
          name,
          rootfs: join(volume, 'rootfs'),
          idmap,
          uuid: instance.nicHolder().uuid,
          limits: plan.writes,
          lxcfs: await lxcfsMount(),
          haltSignal: haltSignalOf(instance.expanded.config),
          devlxd: await this.guestApi?.prepare(name, instance.expanded.config),
          devices: deviceMounts(instance.expanded.devices),
          waitReady: false,
        })
        .catch((err: unknown) => {
          throw err instanceof CgroupLimitError ? new CgroupWriteError(err.file, err.value, err.errnoCode) : err;
        });
      await this.hooks.reach('instance-start.runtime-started');
      instance.markRunning();
      instance.applyVolatile(await this.nics.plug(instance.nicHolder(), started.pid));
      await this.hooks.reach('instance-start.nics-plugged');
      await this.proxies.sync(name, started.pid, instance.expanded.devices);
      await this.limits.apply(started, plan);
      this.inits.set(name, started.pid);
      await this.hooks.reach('instance-start.limits-applied');
    } catch (err) {
      this.log.warn({ instance: name, err: (err as Error).message }, 'start failed; the container was removed');
      await this.runtime.stop(name, { timeout: 0, force: true }).catch(() => undefined);
      await this.teardown.release(instance);
      instance.abortStart();
      await this.instances.saveState(instance);
      throw err;
    }
    await this.instances.saveState(instance);
    instance.commit();
  }

  private async stop(name: string, timeout: number, force: boolean): Promise<void> {
    const instance = this.publisher.mergeObjectContext(await this.instances.get(name));
    if (!instance.isRunning) return;
    const frozen = instance.state.status === 'Frozen';
    instance.beginStop();
    await this.instances.saveState(instance);
    const state = await this.runtime.state(name);
    // Frozen processes handle no signal (v1 freezer): they are thawed so that systemd can halt, or die.
    if (frozen && state.state !== 'Stopped') await this.limits.freeze(name, state, false);
    await this.hooks.reach('instance-stop.recorded');
    let exit: string | null = null;
    try {
      if (state.state !== 'Stopped') exit = (await this.runtime.stop(name, { timeout, force })).lastExit;
      await this.hooks.reach('instance-stop.runtime-stopped');
    } finally {
      await this.teardown.release(instance);
    }
    instance.markStopped(exit);
    await this.instances.saveState(instance);
    instance.commit();
  }


  /**
   * Freezes or thaws the container's processes through its cgroup (the status becomes Frozen,
   * or Running again, Ready if its guest had declared so) and raises instance-paused/-resumed.
   */
  private async freeze(name: string, frozen: boolean): Promise<void> {
    const instance = this.publisher.mergeObjectContext(await this.instances.get(name));
    const state = await this.runtime.state(name);
    if (state.state === 'Stopped') throw new InstanceStateError('The instance is not running');
    if (frozen) instance.freeze();
    else instance.unfreeze();
    await this.limits.freeze(name, state, frozen);
    await this.instances.saveState(instance);
    instance.commit();
  }
}
