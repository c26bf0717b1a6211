import { Injectable } from '@nestjs/common';
import { BridgeNetworks } from '../bridge-networks.js';
import type { NetworkRecord } from './network.entity.js';
import { NetworkRepository } from './network.repository.js';

/**
 * Transitional: what instances' ContainerHost still asks of the network context until InstanceNics
 * and InstanceProxies replace its nic and proxy code. Goes with ContainerHost.
 */
@Injectable()
export class NetworkStore {
  constructor(private readonly networks: NetworkRepository, readonly host: BridgeNetworks) {}

  records(): Promise<NetworkRecord[]> {
    return this.networks.list();
  }
}
