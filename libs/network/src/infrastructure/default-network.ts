import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { BERTH_CONFIG, DATABASE, LOGGER, type BerthConfig, type Database, type Logger } from '#core';
import { UpdateProfileCommand } from '#profiles';
import { CreateNetworkCommand } from '../commands/create-network/create-network.command.js';

/**
 * The default bridge of a first start (BERTH_DEFAULT_NETWORK, unless `none`), with `eth0` on it in
 * the default profile, as `lxd init` does with lxdbr0.
 */
@Injectable()
export class DefaultNetwork {
  constructor(
    private readonly commands: CommandBus,
    @Inject(DATABASE) private readonly db: Database,
    @Inject(BERTH_CONFIG) private readonly config: BerthConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Creates it on the very first start; a failure is logged, and instances get no nic by default. */
  async createOnFirstStart(): Promise<void> {
    const name = this.config.BERTH_DEFAULT_NETWORK;
    if (!this.db.firstStart || name === 'none') return;
    try {
      await this.commands.execute(new CreateNetworkCommand(name, 'Default Berth network', { 'ipv4.address': 'auto', 'ipv4.nat': 'true' }));
      await this.commands.execute(new UpdateProfileCommand('default', 'merge', { devices: { eth0: { type: 'nic', network: name, name: 'eth0' } } }));
      this.log.info({ network: name }, 'created the default network');
    } catch (err) {
      this.log.error({ network: name, err: (err as Error).message }, 'could not create the default network; instances get no nic by default');
    }
  }
}
