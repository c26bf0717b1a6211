import { Module } from '@nestjs/common';
import { CreateNetworkHandler, DeleteNetworkHandler, GetNetworkHandler, ListNetworkLeasesHandler, ListNetworksHandler, NetworkStore } from './api/network-commands.js';
import { GetNetworkStateHandler, RenameNetworkHandler, UpdateNetworkHandler } from './api/network-changes.js';
import { NetworkLifecycleHandler, NetworkRestorer } from './api/network-lifecycle.js';

@Module({
  providers: [
    NetworkStore,
    CreateNetworkHandler,
    DeleteNetworkHandler,
    UpdateNetworkHandler,
    RenameNetworkHandler,
    ListNetworksHandler,
    GetNetworkHandler,
    GetNetworkStateHandler,
    ListNetworkLeasesHandler,
    NetworkLifecycleHandler,
    NetworkRestorer,
  ],
  exports: [NetworkStore],
})
export class NetworkModule {}
