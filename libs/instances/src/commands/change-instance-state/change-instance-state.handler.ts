import { CommandHandler, EventPublisher, type ICommandHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import { LOGGER, ValidationError, type Logger } from '#core';
import { OperationRunner, type OperationView } from '#operations';
import type { Instance } from '../../domain/instance.js';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { ContainerHost } from '../../infrastructure/container-host.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ChangeInstanceStateCommand, type StateAction } from './change-instance-state.command.js';

const ACTIONS: StateAction[] = ['start', 'stop', 'restart', 'freeze', 'unfreeze'];
const DESCRIPTIONS: Record<StateAction, string> = {
  start: 'Starting instance',
  stop: 'Stopping instance',
  restart: 'Restarting instance',
  freeze: 'Freezing instance',
  unfreeze: 'Unfreezing instance',
};
const READY_TIMEOUT_MS = 120_000;

/**
 * Starts and stops containers. The request is checked against the instance's state at once (a
 * start of a running instance is refused without side effects), then the work runs in an
 * operation holding the instance's lock.
 */
@CommandHandler(ChangeInstanceStateCommand)
export class ChangeInstanceStateHandler implements ICommandHandler<ChangeInstanceStateCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly host: ContainerHost,
    private readonly operations: OperationRunner,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async execute({ name, body }: ChangeInstanceStateCommand): Promise<OperationView> {
    const action = body.action;
    if (typeof action !== 'string' || !(ACTIONS as string[]).includes(action)) {
      throw new ValidationError('action', `must be one of ${ACTIONS.join(', ')}`);
    }
    const timeout = body.timeout === undefined || body.timeout === -1 ? 30 : body.timeout;
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0) throw new ValidationError('timeout', 'must be a whole number of seconds, or -1');
    if (body.force !== undefined && typeof body.force !== 'boolean') throw new ValidationError('force', 'must be true or false');
    const force = body.force === true;
    const current = await this.instances.get(name);
    if (action === 'start' && current.isRunning) throw new InstanceStateError('The instance is already running');
    if (action === 'stop' && !current.isRunning) throw new InstanceStateError('The instance is already stopped');
    if (action === 'freeze' && current.snapshot.status === 'Frozen') throw new InstanceStateError('The instance is already frozen');
    if (action === 'freeze' && !current.isRunning) throw new InstanceStateError('The instance is not running');
    if (action === 'unfreeze' && current.snapshot.status !== 'Frozen') throw new InstanceStateError('The instance is not frozen');
    return this.operations.start({
      description: DESCRIPTIONS[action as StateAction],
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
   * Freezes or thaws the container's processes through its cgroup (the status becomes Frozen,
   * or Ready/Running again as the monitor reports it) and raises instance-paused/-resumed.
   */
  private async freeze(name: string, frozen: boolean): Promise<void> {
    const instance = this.publisher.mergeObjectContext(await this.instances.get(name));
    const state = await this.host.state(name);
    if (state.state === 'Stopped') throw new InstanceStateError('The instance is not running');
    if (frozen) instance.freeze();
    else instance.unfreeze(state.state === 'Ready');
    await this.host.freeze(state, frozen);
    await this.instances.saveState(instance);
    instance.commit();
  }

  private async start(name: string): Promise<void> {
    const instance = this.publisher.mergeObjectContext(await this.instances.get(name));
    instance.beginStart();
    // Given at the first start and kept: the host ends of the nics are named after it.
    instance.ensureUuid();
    await this.instances.saveState(instance);
    try {
      const state = await this.host.start(instance, READY_TIMEOUT_MS);
      instance.markRunning();
      await this.host.applyLimits(instance, state);
      instance.markReady(state.readyMs);
    } catch (err) {
      await this.host.stop(name, 0, true).catch(() => undefined);
      await this.host.unplugNics(instance);
      this.fail(instance);
      await this.instances.saveState(instance);
      throw err;
    }
    await this.instances.saveState(instance);
    instance.commit();
  }

  private async stop(name: string, timeout: number, force: boolean): Promise<void> {
    const instance = this.publisher.mergeObjectContext(await this.instances.get(name));
    if (!instance.isRunning) return;
    const frozen = instance.snapshot.status === 'Frozen';
    instance.beginStop();
    await this.instances.saveState(instance);
    const state = await this.host.state(name);
    // Frozen processes handle no signal (v1 freezer): they are thawed so that systemd can halt, or die.
    if (frozen && state.state !== 'Stopped') await this.host.freeze(state, false);
    if (state.state !== 'Stopped') await this.host.stop(name, timeout, force);
    await this.host.unplugNics(instance);
    instance.markStopped();
    await this.instances.saveState(instance);
    instance.commit();
  }

  /** A start that failed leaves the instance stopped, with nothing running. */
  private fail(instance: Instance) {
    this.log.warn({ instance: instance.name }, 'start failed; the container was removed');
    instance.markStopped();
    instance.uncommit();
  }
}
