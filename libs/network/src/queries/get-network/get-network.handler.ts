import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NetworkRepository } from '../../infrastructure/network.repository.js';
import { NetworkViews, type NetworkView } from '../network-views.js';
import { GetNetworkQuery } from './get-network.query.js';

@QueryHandler(GetNetworkQuery)
export class GetNetworkHandler implements IQueryHandler<GetNetworkQuery> {
  constructor(private readonly networks: NetworkRepository, private readonly views: NetworkViews) {}

  async execute({ name }: GetNetworkQuery): Promise<NetworkView> {
    return this.views.view(await this.networks.get(name));
  }
}
