import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EventBus, EventPublisher, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { BusyError, LOGGER, NotFoundError, type Logger } from '#core';
import { InstanceNics, InstanceProxies } from '#network';
import { CgroupLimits, HOST_CAPACITY, type HostCapacity } from '#quotas';
import { Runtime, type ContainerState } from '#runtime';
import { DefaultPool } from '#storage';
import type { Instance } from '../domain/instance.js';
import { InstanceOomEvent, InstanceRestartedEvent, InstanceStartedEvent, InstanceStoppedEvent } from '../events/instance-events.js';
import { DeleteInstanceCommand } from '../commands/delete-instance/delete-instance.command.js';
import { DeleteInstanceHandler } from '../commands/delete-instance/delete-instance.handler.js';
import { FailedUnits } from './failed-units.js';
import { HostTeardown } from './host-teardown.js';
import { InstanceRepository } from './instance.repository.js';
import { PluggedInits } from './plugged-inits.js';

const INTERVAL_MS = 10_000;
/** How long a burst of changes in a runtime directory may settle before the container is looked at. */
const SETTLE_MS = 100;
/** When an operation holds the instance's lock, how soon to look again. */
const BUSY_RETRY_MS = 1_000;
/**
 * How often the OOM counters of running containers are read: one small cgroup file each, the same
 * on v1 and v2 (an eventfd through v1's cgroup.event_control would be instant, but v1 only, and
 * it would need the monitor to relay it while berthd may be down).
 */
const OOM_POLL_MS = 2_000;

/** A container whose init runs: one a nic can be plugged into (not one that is stopping). */
const live = (state: ContainerState) => state.state === 'Running';

/**
 * Keeps the recorded status, and the host side of each running instance, in step with the
 * containers: at daemon start (running containers are adopted, instances recorded as running
 * whose container is gone become Stopped), every few seconds after, so that a `poweroff` inside a
 * container is noticed, and at once when a container's monitor changes its runtime directory.
 * A reboot from inside (`systemctl reboot`) makes the monitor start a new init, in a new network
 * namespace and cgroup: the instance's nics are plugged into it, its proxies restarted, its limits
 * applied again, and `instance-restarted` is published. A reboot while berthd was down is caught
 * up with when the container is adopted. An OOM kill inside a running container (its memory limit
 * reached) is published as `instance-oom` within a couple of seconds; kills that happened while
 * berthd was down are not announced when it adopts the container, only counted in its state.
 * systemd's READY=1 in a container is published as `instance-ready`, once per boot (the boot it
 * was announced for is recorded with the instance, so a daemon restarted meanwhile does not
 * announce it again), whether it came during the start operation, after it, or while berthd was down.
 *
 * An operation interrupted by a crash (of berthd or of its database) is finished here, once
 * nothing holds the instance's lock: an instance left Starting or Stopping takes its container's
 * state (Running with its nics, proxies and limits set up, or Stopped with them removed),
 * and an instance left held by a process of an earlier life of the daemon (a create cloning its
 * volume, a VM import filling it) is deleted with whatever that process had made: its operation
 * has been marked failed.
 */
@Injectable()
@EventsHandler(InstanceStartedEvent, InstanceStoppedEvent)
export class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown, IEventHandler<InstanceStartedEvent | InstanceStoppedEvent> {
  private timer?: NodeJS.Timeout;
  private oomTimer?: NodeJS.Timeout;
  private pollingOoms = false;
  private closed = false;
  /** Per running instance, the OOM kills already counted in its current cgroup. */
  private readonly ooms = new Map<string, { cgroup: string; kills: number }>();
  /** Instances started by this daemon since their last OOM look: every kill in their cgroup is new. */
  private readonly fresh = new Set<string>();
  /** The runtime directories watched, one per running instance: how to stop each watch. */
  private readonly watches = new Map<string, () => void>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** The init last announced as a restart, per instance, so that a retried re-plug announces it once. */
  private readonly announced = new Map<string, number>();

  constructor(
    private readonly instances: InstanceRepository,
    private readonly runtime: Runtime,
    private readonly inits: PluggedInits,
    private readonly nics: InstanceNics,
    private readonly proxies: InstanceProxies,
    private readonly limits: CgroupLimits,
    private readonly pool: DefaultPool,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
    private readonly publisher: EventPublisher,
    private readonly events: EventBus,
    private readonly deletion: DeleteInstanceHandler,
    private readonly failedUnits: FailedUnits,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly teardown: HostTeardown,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.undoInterrupted().catch((err) => this.log.error({ err: (err as Error).message }, 'undoing interrupted creates and imports failed'));
    await this.reconcile().catch((err) => this.log.error({ err: (err as Error).message }, 'reconciling instances at start failed'));
    this.timer = setInterval(() => void this.reconcile().catch((err) => this.log.warn({ err: (err as Error).message }, 'reconciling instances failed')), INTERVAL_MS);
    this.timer.unref();
    this.oomTimer = setInterval(() => void this.pollOoms(), OOM_POLL_MS);
    this.oomTimer.unref();
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.oomTimer);
    for (const name of [...this.watches.keys(), ...this.pending.keys()]) this.forget(name);
  }

  /**
   * A container started through the API is watched from its start and looked at right away
   * (its READY=1 may have come before the watch); a stopped one no longer.
   */
  handle(event: InstanceStartedEvent | InstanceStoppedEvent): void {
    if (event instanceof InstanceStartedEvent) {
      this.ooms.delete(event.name);
      this.fresh.add(event.name);
      this.watch(event.name);
      this.schedule(event.name, SETTLE_MS);
    } else this.forget(event.name);
  }

  async reconcile(): Promise<void> {
    const instances = await this.instances.list();
    const names = new Set(instances.map((i) => i.name));
    for (const name of this.watches.keys()) if (!names.has(name)) this.forget(name);
    for (const instance of instances) {
      await this.reconcileOne(instance).catch((err) => this.log.warn({ instance: instance.name, err: (err as Error).message }, 'reconciling an instance failed'));
    }
  }

  /**
   * At daemon start no operation of this life runs yet: an instance still held was held by one
   * that a crash ended (see Instance.hold), and is deleted as that operation would have done.
   */
  private async undoInterrupted(): Promise<void> {
    for (const instance of await this.instances.list()) {
      if (instance.heldFor === undefined || instance.isRunning) continue;
      this.log.warn({ instance: instance.name, held: instance.heldFor }, 'an operation holding this instance was interrupted; the instance is deleted');
      await this.deletion.execute(new DeleteInstanceCommand(instance.name, true)).catch((err: Error) => this.log.error({ instance: instance.name, err: err.message }, 'could not delete an instance left by an interrupted operation'));
    }
  }

  /** Returns false when an operation held the instance's lock, so that nothing could be done yet. */
  private async reconcileOne(instance: Instance): Promise<boolean> {
    const { name } = instance;
    const { status } = instance.state;
    if (instance.isTransitional) {
      // No operation holds the lock (one that does is starting or stopping it now): it was interrupted.
      const state = await this.runtime.state(name);
      if (state.state === 'Stopped') return this.locked(name, () => this.markStopped(name));
      if (!live(state)) return true; // the container itself is between states: looked at again soon
      return this.locked(name, () => this.settleRunning(name));
    }
    if (status !== 'Running' && status !== 'Ready') {
      this.forget(name);
      return true;
    }
    const state = await this.runtime.state(name);
    // An operation on this instance may be stopping or starting it right now: it holds the lock.
    if (state.state === 'Stopped') return this.locked(name, () => this.markStopped(name));
    this.watch(name);
    if (!live(state)) return true;
    if (this.inits.of(name) !== state.pid && !(await this.locked(name, () => this.followInit(name)))) return false;
    // systemd's READY=1 in this boot, not yet announced (it came after the start, or while berthd was down).
    if (state.readyMs !== null && !instance.bootReadyRecorded(state.startedAt.getTime())) return this.locked(name, () => this.announceReady(name));
    return true;
  }

  /** The container runs: the recorded status follows it (Running, or Ready if its guest had declared so). */
  private async settleRunning(name: string): Promise<void> {
    const fresh = this.publisher.mergeObjectContext(await this.instances.get(name));
    const state = await this.runtime.state(name);
    if (!live(state)) return;
    if (fresh.isTransitional) {
      this.log.warn({ instance: name, was: fresh.state.status, pid: state.pid }, 'an interrupted operation left the instance between states; it follows its container');
      fresh.settle('Running');
      await this.instances.saveState(fresh);
      fresh.commit();
    }
    if (this.inits.of(name) !== state.pid) await this.followInit(name, { adopting: true });
    await this.announceReady(name);
  }

  /** Publishes `instance-ready` for the container's current boot if systemd reported READY=1 in it and no one announced it yet. */
  private async announceReady(name: string): Promise<void> {
    const fresh = this.publisher.mergeObjectContext(await this.instances.get(name));
    const state = await this.runtime.state(name);
    if (!live(state) || state.readyMs === null) return;
    if (!fresh.recordBootReady(state.startedAt.getTime(), state.readyMs)) return;
    await this.instances.saveState(fresh);
    fresh.commit();
  }

  private async markStopped(name: string): Promise<void> {
    const fresh = this.publisher.mergeObjectContext(await this.instances.get(name));
    const state = await this.runtime.state(name);
    if (!fresh.isRunning || state.state !== 'Stopped') return;
    this.log.warn({ instance: name, lastExit: state.lastExit }, 'container is gone; instance marked stopped');
    // Its monitor may have been killed: the cgroups it left go now, not at the next start.
    const reaped = await this.runtime.reap(name).catch((err: Error) => (this.log.warn({ instance: name, err: err.message }, 'could not remove the cgroups of a dead container'), []));
    if (reaped.length > 0) this.log.warn({ instance: name, cgroups: reaped.length }, 'removed the cgroups its killed monitor left');
    await this.teardown.release(fresh);
    fresh.markStopped();
    await this.instances.saveState(fresh);
    fresh.commit();
  }

  /**
   * Sets the instance's nics, proxies and limits up for the container's current init, after a
   * reboot from inside or when adopting a container at daemon start: nics missing from init's
   * network namespace are plugged (same name, MAC and reservation), proxies bound to another init
   * restarted, and the limits applied to the container's new cgroup (the monitor carries over
   * those it was started with; a limit set since then is not among them).
   */
  private async followInit(name: string, { adopting = false } = {}): Promise<void> {
    const fresh = await this.instances.get(name);
    const state = await this.runtime.state(name);
    const previous = this.inits.of(name);
    if (!fresh.isRunning || !live(state) || previous === state.pid) return;
    const recorded = JSON.stringify([fresh.state.status, fresh.state.volatile]);
    // Seen live, the reboot is announced even if plugging fails (it is retried at the next pass);
    // what the guest declared in its previous boot is gone with it.
    if (previous !== undefined) {
      this.announce(name, state, { previousPid: previous });
      fresh.markRebooted();
    }
    const { plugged, volatile: changes } = await this.nics.replug(fresh.nicHolder(), state.pid);
    fresh.applyVolatile(changes);
    await this.proxies.sync(name, state.pid, fresh.expanded.devices);
    await this.applyLimits(fresh, state).catch((err: Error) => this.log.warn({ instance: name, err: err.message }, "could not apply the limits to the container's new cgroup"));
    this.inits.set(name, state.pid);
    if (JSON.stringify([fresh.state.status, fresh.state.volatile]) !== recorded) await this.instances.saveState(fresh);
    // Adopted at daemon start: nics missing from init's namespace mean a reboot while berthd was down.
    if (previous === undefined && plugged.length > 0 && !adopting) this.announce(name, state, { plugged });
  }

  private async applyLimits(instance: Instance, state: ContainerState): Promise<void> {
    const pool = await this.pool.get();
    await this.limits.reapply({ instance: instance.name, quota: instance.limits(this.capacity), backing: () => pool.blockDevice(), running: state });
  }

  private announce(name: string, state: ContainerState, details: object): void {
    if (this.announced.get(name) === state.pid) return;
    this.announced.set(name, state.pid);
    this.log.info({ instance: name, pid: state.pid, reboots: state.reboots, ...details }, 'the container rebooted: its nics and proxies follow the new init');
    this.events.publish(new InstanceRestartedEvent(name));
  }

  /** Runs `fn` under the instance's lock; false if an operation holds it. */
  private async locked(name: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await this.instances.withLock(name, fn, { background: true });
      return true;
    } catch (err) {
      if (err instanceof BusyError) return false;
      if (!(err instanceof NotFoundError)) throw err;
      this.forget(name); // deleted meanwhile
      return true;
    }
  }

  private watch(name: string): void {
    if (this.closed || this.watches.has(name)) return;
    const stop = this.runtime.watch(name, () => this.schedule(name, SETTLE_MS));
    if (stop) this.watches.set(name, stop);
  }

  private forget(name: string): void {
    this.watches.get(name)?.();
    this.watches.delete(name);
    clearTimeout(this.pending.get(name));
    this.pending.delete(name);
    this.announced.delete(name);
    this.ooms.delete(name);
    this.fresh.delete(name);
    this.failedUnits.forget(name);
  }

  /** Publishes `instance-oom` for the running instances whose cgroup counts new OOM kills. */
  private async pollOoms(): Promise<void> {
    if (this.closed || this.pollingOoms) return;
    this.pollingOoms = true;
    try {
      for (const name of [...this.watches.keys()]) {
        await this.checkOoms(name).catch((err) => this.log.warn({ instance: name, err: (err as Error).message }, 'reading OOM kills failed'));
      }
    } finally {
      this.pollingOoms = false;
    }
  }

  private async checkOoms(name: string): Promise<void> {
    const state = await this.runtime.state(name);
    if (!live(state) || !this.watches.has(name)) return;
    const kills = await this.limits.oomKills(state);
    const seen = this.ooms.get(name);
    // A reboot from inside gives a new cgroup, whose counter starts at 0; a container adopted at
    // daemon start counts only the kills from now on.
    const before = seen?.cgroup === state.cgroup ? seen.kills : seen || this.fresh.has(name) ? 0 : kills;
    this.fresh.delete(name);
    this.ooms.set(name, { cgroup: state.cgroup, kills });
    if (kills <= before) return;
    this.log.warn({ instance: name, killed: kills - before, total: kills }, 'processes were OOM-killed inside the container (its memory limit was reached)');
    this.events.publish(new InstanceOomEvent(name, kills - before, kills));
  }

  private schedule(name: string, delayMs: number): void {
    if (this.closed || this.pending.has(name)) return;
    const timer = setTimeout(() => {
      this.pending.delete(name);
      void this.check(name);
    }, delayMs);
    timer.unref();
    this.pending.set(name, timer);
  }

  /** One instance, when its runtime directory changed: looked at again soon if it was busy. */
  private async check(name: string): Promise<void> {
    try {
      if (!(await this.reconcileOne(await this.instances.get(name)))) this.schedule(name, BUSY_RETRY_MS);
    } catch (err) {
      if (err instanceof NotFoundError) this.forget(name);
      else this.log.warn({ instance: name, err: (err as Error).message }, 'reconciling an instance failed');
    }
  }
}
