import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EventPublisher } from '@nestjs/cqrs';
import { LOGGER, type Logger } from '#core';
import { ContainerHost } from './container-host.js';
import { InstanceRepository } from './instance.repository.js';

const INTERVAL_MS = 10_000;

/**
 * Keeps the recorded status in step with the containers: at daemon start (running containers are
 * adopted as they are; instances recorded as running whose container is gone become Stopped), and
 * every few seconds after, so a `poweroff` inside a container is noticed.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly instances: InstanceRepository,
    private readonly host: ContainerHost,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.reconcile().catch((err) => this.log.error({ err: (err as Error).message }, 'reconciling instances at start failed'));
    this.timer = setInterval(() => void this.reconcile().catch((err) => this.log.warn({ err: (err as Error).message }, 'reconciling instances failed')), INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async reconcile(): Promise<void> {
    for (const instance of await this.instances.list()) {
      const { status } = instance.snapshot;
      if (status !== 'Running' && status !== 'Ready') continue;
      const state = await this.host.state(instance.name);
      if (state.state !== 'Stopped') continue;
      // An operation on this instance may be stopping it right now: it holds the lock.
      await this.instances
        .withLock(instance.name, async () => {
          const fresh = this.publisher.mergeObjectContext(await this.instances.get(instance.name));
          if (!fresh.isRunning || (await this.host.state(instance.name)).state !== 'Stopped') return;
          this.log.warn({ instance: instance.name, lastExit: state.lastExit }, 'container is gone; instance marked stopped');
          await this.host.unplugNics(fresh);
          fresh.markStopped();
          await this.instances.saveState(fresh);
          fresh.commit();
        })
        .catch((err: { code?: string }) => {
          if (err.code !== 'RESOURCE.BUSY') throw err;
        });
    }
  }
}
