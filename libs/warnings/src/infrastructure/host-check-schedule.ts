import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { LOGGER, type Logger } from '#core';
import { CheckHostCommand } from '../commands/check-host/check-host.command.js';

/** How often the host is checked again: the checks read a few files, and conditions change rarely. */
export const HOST_CHECK_INTERVAL_MS = 5 * 60_000;

/** Checks the host when the daemon starts (before it answers) and every few minutes after. */
@Injectable()
export class HostCheckSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly commands: CommandBus, @Inject(LOGGER) private readonly log: Logger) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), HOST_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    try {
      const { raised, resolved } = await this.commands.execute(new CheckHostCommand());
      if (raised.length > 0 || resolved.length > 0) this.log.info({ raised, resolved }, 'host warnings changed');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'could not check the host for warnings');
    }
  }
}
