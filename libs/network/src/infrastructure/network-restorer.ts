import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, type Logger } from '#core';
import { BridgeNetworks } from '../bridge-networks.js';
import { networkSpecOf } from '../domain/network-config.js';
import { DefaultNetwork } from './default-network.js';
import { NetworkRepository } from './network.repository.js';

/**
 * At daemon start every recorded network is brought back (bridge, NAT, dnsmasq adopted or
 * restarted), after the default network of a first start is created.
 */
@Injectable()
export class NetworkRestorer implements OnApplicationBootstrap {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly bridges: BridgeNetworks,
    private readonly defaultNetwork: DefaultNetwork,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.defaultNetwork.createOnFirstStart();
    for (const row of await this.networks.list().catch(() => [])) {
      await this.bridges.ensure(networkSpecOf(row.name, row.config)).catch((err) => this.log.error({ network: row.name, err: (err as Error).message }, 'could not restore a network'));
    }
  }
}
