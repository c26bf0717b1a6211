import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { BridgeNetworks } from '../../bridge-networks.js';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { ListNetworkLeasesQuery, type LeaseView } from './list-network-leases.query.js';

@QueryHandler(ListNetworkLeasesQuery)
export class ListNetworkLeasesHandler implements IQueryHandler<ListNetworkLeasesQuery> {
  constructor(private readonly networks: NetworkRepository, private readonly bridges: BridgeNetworks) {}

  async execute({ name }: ListNetworkLeasesQuery): Promise<LeaseView[]> {
    await this.networks.get(name);
    const leases = await this.bridges.leases(name);
    return leases.map((l) => ({ hostname: l.hostname ?? '', hwaddr: l.mac, address: l.ipv4, type: 'dynamic', location: 'none' }));
  }
}
