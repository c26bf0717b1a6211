import { Module } from '@nestjs/common';
import { BERTH_CONFIG, type BerthConfig } from '#core';
import { BridgeNetworks } from './bridge-networks.js';
import { CreateNetworkHandler } from './commands/create-network/create-network.handler.js';
import { DeleteNetworkHandler } from './commands/delete-network/delete-network.handler.js';
import { RenameNetworkHandler } from './commands/rename-network/rename-network.handler.js';
import { UpdateNetworkHandler } from './commands/update-network/update-network.handler.js';
import { NetworkLifecycleHandler } from './events/network-lifecycle.handler.js';
import { DefaultNetwork } from './infrastructure/default-network.js';
import { NetworkRecord } from './infrastructure/network.entity.js';
import { NetworkRepository } from './infrastructure/network.repository.js';
import { NetworkRestorer } from './infrastructure/network-restorer.js';
import { NetworkUsage } from './infrastructure/network-usage.js';
import { InstanceNics } from './nics/instance-nics.js';
import { InstanceProxies } from './nics/instance-proxies.js';
import { GetNetworkHandler } from './queries/get-network/get-network.handler.js';
import { GetNetworkStateHandler } from './queries/get-network-state/get-network-state.handler.js';
import { ListNetworkLeasesHandler } from './queries/list-network-leases/list-network-leases.handler.js';
import { ListNetworksHandler } from './queries/list-networks/list-networks.handler.js';
import { NetworkViews } from './queries/network-views.js';

@Module({
  providers: [
    { provide: BridgeNetworks, useFactory: (config: BerthConfig) => new BridgeNetworks({ berthDir: config.BERTH_DIR }), inject: [BERTH_CONFIG] },
    NetworkRepository,
    NetworkUsage,
    NetworkViews,
    CreateNetworkHandler,
    DeleteNetworkHandler,
    UpdateNetworkHandler,
    RenameNetworkHandler,
    ListNetworksHandler,
    GetNetworkHandler,
    GetNetworkStateHandler,
    ListNetworkLeasesHandler,
    NetworkLifecycleHandler,
    DefaultNetwork,
    NetworkRestorer,
    InstanceNics,
    InstanceProxies,
  ],
  exports: [InstanceNics, InstanceProxies],
})
export class NetworkModule {
  /** The TypeORM entities of this context, for the daemon's one DataSource. */
  static readonly entities = [NetworkRecord];
}
