import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { NetworkViews, type NetworkView } from '../network-views.js';
import { ListNetworksQuery } from './list-networks.query.js';

@QueryHandler(ListNetworksQuery)
export class ListNetworksHandler implements IQueryHandler<ListNetworksQuery> {
  constructor(private readonly networks: NetworkRepository, private readonly views: NetworkViews) {}

  async execute({ recursion }: ListNetworksQuery): Promise<string[] | NetworkView[]> {
    const rows = await this.networks.list();
    return recursion === 0 ? rows.map((r) => `/1.0/networks/${encodeURIComponent(r.name)}`) : Promise.all(rows.map((r) => this.views.view(r)));
  }
}
