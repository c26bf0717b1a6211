import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { BridgeNetworks } from '../../bridge-networks.js';
import type { BridgeState } from '../../infrastructure/bridge-state.js';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { GetNetworkStateQuery } from './get-network-state.query.js';

@QueryHandler(GetNetworkStateQuery)
export class GetNetworkStateHandler implements IQueryHandler<GetNetworkStateQuery> {
  constructor(private readonly networks: NetworkRepository, private readonly bridges: BridgeNetworks) {}

  async execute({ name }: GetNetworkStateQuery): Promise<BridgeState> {
    await this.networks.get(name);
    return this.bridges.state(name);
  }
}
