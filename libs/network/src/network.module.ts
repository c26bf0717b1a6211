import { Module } from '@nestjs/common';
import { CreateNetworkHandler, DeleteNetworkHandler, GetNetworkHandler, ListNetworkLeasesHandler, ListNetworksHandler, NetworkStore } from './api/network-commands.js';
import { NetworkLifecycleHandler, NetworkRestorer } from './api/network-lifecycle.js';

@Module({
  providers: [NetworkStore, CreateNetworkHandler, DeleteNetworkHandler, ListNetworksHandler, GetNetworkHandler, ListNetworkLeasesHandler, NetworkLifecycleHandler, NetworkRestorer],
  exports: [NetworkStore],
})
export class NetworkModule {}
