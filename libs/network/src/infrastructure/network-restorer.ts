import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { BERTH_CONFIG, DATABASE, LOGGER, type BerthConfig, type Database, type Logger } from '#core';
import { UpdateProfileCommand } from '#profiles';
import { BridgeNetworks } from '../bridge-networks.js';
import { CreateNetworkCommand } from '../commands/create-network/create-network.command.js';
import { networkSpecOf } from '../domain/network-config.js';
import { NetworkRepository } from './network.repository.js';

/**
 * At daemon start every recorded network is brought back (bridge, NAT, dnsmasq adopted or
 * restarted). On the very first start the default bridge is created and the default profile gets
 * `eth0` on it, as `lxd init` does with lxdbr0.
 */
@Injectable()
export class NetworkRestorer implements OnApplicationBootstrap {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly host: BridgeNetworks,
    private readonly commands: CommandBus,
    @Inject(DATABASE) private readonly db: Database,
    @Inject(BERTH_CONFIG) private readonly config: BerthConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const name = this.config.BERTH_DEFAULT_NETWORK;
    if (this.db.firstStart && name !== 'none') {
      try {
        await this.commands.execute(new CreateNetworkCommand(name, 'Default Berth network', { 'ipv4.address': 'auto', 'ipv4.nat': 'true' }));
        await this.commands.execute(new UpdateProfileCommand('default', 'merge', { devices: { eth0: { type: 'nic', network: name, name: 'eth0' } } }));
        this.log.info({ network: name }, 'created the default network');
      } catch (err) {
        this.log.error({ network: name, err: (err as Error).message }, 'could not create the default network; instances get no nic by default');
      }
    }
    for (const row of await this.networks.list().catch(() => [])) {
      await this.host.ensure(networkSpecOf(row.name, row.config)).catch((err) => this.log.error({ network: row.name, err: (err as Error).message }, 'could not restore a network'));
    }
  }
}
