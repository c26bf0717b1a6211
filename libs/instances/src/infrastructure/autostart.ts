import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { LOGGER, type Logger } from '#core';
import { OperationRunner } from '#operations';
import { Runtime } from '#runtime';
import { ChangeInstanceStateCommand } from '../commands/change-instance-state/change-instance-state.command.js';
import type { Instance } from '../domain/instance.js';
import { InstanceRepository } from './instance.repository.js';
import { Reconciler } from './reconciler.js';

/** How long to wait for one instance's start (its init running) before moving on to the next. */
const START_TIMEOUT_S = 180;
/** How long the reconciler may take to record as stopped an instance whose container is gone. */
const SETTLE_TIMEOUT_MS = 30_000;

const TRUE = /^(true|1|yes|on)$/i;
const FALSE = /^(false|0|no|off)$/i;

/** Whether an instance recorded as `wasRunning` when the daemon came up should be started, in which order and with which pause after it. */
export interface AutostartPlan {
  name: string;
  priority: number;
  delayS: number;
}

/**
 * LXD's rule: `boot.autostart=true` starts the instance; with no `boot.autostart` key, it is
 * started if it was running when the daemon (or the host) went down; `false` never. Higher
 * `boot.autostart.priority` first, then by name; `boot.autostart.delay` seconds after each.
 */
export function planAutostart(candidates: ReadonlyArray<{ name: string; config: Record<string, string>; wasRunning: boolean }>): AutostartPlan[] {
  return candidates
    .filter(({ config, wasRunning }) => {
      const key = config['boot.autostart'];
      if (key === undefined || key === '') return wasRunning;
      return TRUE.test(key) && !FALSE.test(key);
    })
    .map(({ name, config }) => ({ name, priority: Number(config['boot.autostart.priority'] ?? 0) || 0, delayS: Number(config['boot.autostart.delay'] ?? 0) || 0 }))
    .sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
}

/**
 * Starts instances at daemon start, once running containers are adopted and those whose
 * container is gone are recorded as stopped. Which instances were running when the daemon or the
 * host went down is read from the database before anything reconciles it (at module init).
 */
@Injectable()
export class Autostart implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private wasRunning = new Set<string>();
  private closed = false;
  private run?: Promise<void>;

  constructor(
    private readonly instances: InstanceRepository,
    private readonly runtime: Runtime,
    private readonly reconciler: Reconciler,
    private readonly commands: CommandBus,
    private readonly operations: OperationRunner,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const all = await this.instances.list();
    // A start or a stop that a crash interrupted never completed: the instance was not running (LXD's last_state.power).
    this.wasRunning = new Set(all.filter((i) => i.isRunning && !i.isTransitional).map((i) => i.name));
  }

  /** Runs in the background: the API answers while instances boot. */
  onApplicationBootstrap(): void {
    this.run = this.startAll().catch((err) => this.log.error({ err: (err as Error).message }, 'autostart failed'));
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.run;
  }

  /** Resolves once every instance to autostart was started (or failed to). */
  whenDone(): Promise<void> {
    return this.run ?? Promise.resolve();
  }

  private async startAll(): Promise<void> {
    // Adoption first: an instance recorded as running whose container is gone must be Stopped.
    await this.reconciler.reconcile();
    const all = await this.instances.list();
    const plan = planAutostart(all.map((i) => ({ name: i.name, config: i.expanded.config, wasRunning: this.wasRunning.has(i.name) })));
    for (const { name, delayS } of plan) {
      if (this.closed) return;
      const instance = await this.settled(name);
      if (!instance || instance.isRunning) continue;
      this.log.info({ instance: name }, 'autostart: starting');
      try {
        const op = await this.commands.execute(new ChangeInstanceStateCommand(name, 'start'));
        const done = await this.operations.wait(op.id, START_TIMEOUT_S);
        if (done.status !== 'Success') this.log.warn({ instance: name, status: done.status, err: done.err }, 'autostart: the instance did not start');
      } catch (err) {
        this.log.warn({ instance: name, err: (err as Error).message }, 'autostart: the instance did not start');
        continue;
      }
      if (delayS > 0) await new Promise((r) => setTimeout(r, delayS * 1000));
    }
  }

  /**
   * The instance once its record agrees with its container: recorded as running while the
   * container is gone means the reconciler (running at the same time) has not marked it yet.
   */
  private async settled(name: string): Promise<Instance | null> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const instance = await this.instances.get(name).catch(() => null);
      if (!instance || !instance.isRunning) return instance;
      if ((await this.runtime.state(name)).state !== 'Stopped') return instance;
      if (Date.now() > deadline) return instance;
      await this.reconciler.reconcile();
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
