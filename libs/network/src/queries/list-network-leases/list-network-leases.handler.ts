import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { BridgeNetworks } from '../../bridge-networks.js';
import { leaseViews } from '../../domain/lease-views.js';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { ListNetworkLeasesQuery, type LeaseView } from './list-network-leases.query.js';

@QueryHandler(ListNetworkLeasesQuery)
export class ListNetworkLeasesHandler implements IQueryHandler<ListNetworkLeasesQuery> {
  constructor(private readonly networks: NetworkRepository, private readonly bridges: BridgeNetworks) {}

  async execute({ name }: ListNetworkLeasesQuery): Promise<LeaseView[]> {
    await this.networks.get(name);
    return leaseViews(await this.bridges.hosts(name), await this.bridges.leases(name));
  }
}
