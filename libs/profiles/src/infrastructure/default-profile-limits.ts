import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { DATABASE, LOGGER, type Database, type Logger } from '#core';
import { UpdateProfileCommand } from '../commands/update-profile/update-profile.command.js';
import { DEFAULT_PROFILE_LIMITS } from '../domain/default-limits.js';

/**
 * Gives the `default` profile its limits and, as `lxd init` does, its root disk on the pool
 * `default`, on the daemon's very first start, never later: the default profile of an existing
 * database is the user's, and is not rewritten.
 */
@Injectable()
export class DefaultProfileLimits implements OnApplicationBootstrap {
  constructor(
    private readonly commands: CommandBus,
    @Inject(DATABASE) private readonly db: Database,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.db.firstStart) return;
    const devices = { root: { type: 'disk', path: '/', pool: 'default' } };
    await this.commands.execute(new UpdateProfileCommand('default', 'merge', { config: { ...DEFAULT_PROFILE_LIMITS }, devices }));
    this.log.info({ profile: 'default', config: DEFAULT_PROFILE_LIMITS, devices }, 'gave the default profile its limits and root disk');
  }
}
