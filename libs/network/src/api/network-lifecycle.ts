import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import { BERTH_CONFIG, DATABASE, LOGGER, type BerthConfig, type Database, type Logger } from '#core';
import { UpdateProfileCommand } from '#profiles';
import { EventHub } from '#operations';
import { networkSpecOf } from '../domain/network-config.js';
import { CreateNetworkCommand, NetworkChangedEvent, NetworkStore } from './network-commands.js';

@EventsHandler(NetworkChangedEvent)
export class NetworkLifecycleHandler implements IEventHandler<NetworkChangedEvent> {
  constructor(private readonly hub: EventHub) {}

  handle(e: NetworkChangedEvent): void {
    this.hub.lifecycle(e.action, `/1.0/networks/${encodeURIComponent(e.name)}`, e.context);
  }
}

/**
 * At daemon start every recorded network is brought back (bridge, NAT, dnsmasq adopted or
 * restarted). On the very first start the default bridge is created and the default profile gets
 * `eth0` on it, as `lxd init` does with lxdbr0.
 */
@Injectable()
export class NetworkRestorer implements OnApplicationBootstrap {
  constructor(
    private readonly store: NetworkStore,
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
    for (const row of await this.store.records().catch(() => [])) {
      await this.store.host.ensure(networkSpecOf(row.name, row.config)).catch((err) => this.log.error({ network: row.name, err: (err as Error).message }, 'could not restore a network'));
    }
  }
}
