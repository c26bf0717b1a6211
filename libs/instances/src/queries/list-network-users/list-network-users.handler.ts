import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ListNetworkUsersQuery } from '#network';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';

/** Answers the network context: the instances (by name) with a nic of their expanded devices on the network. */
@QueryHandler(ListNetworkUsersQuery)
export class ListNetworkUsersHandler implements IQueryHandler<ListNetworkUsersQuery> {
  constructor(private readonly instances: InstanceRepository) {}

  async execute({ network }: ListNetworkUsersQuery): Promise<string[]> {
    const instances = await this.instances.list();
    return instances
      .filter((i) => Object.values(i.expanded.devices).some((d) => d.type === 'nic' && (d.network === network || d.parent === network)))
      .map((i) => i.name);
  }
}
