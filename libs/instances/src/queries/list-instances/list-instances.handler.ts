import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { InstanceView } from '../../domain/instance.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ListInstancesQuery } from './list-instances.query.js';

@QueryHandler(ListInstancesQuery)
export class ListInstancesHandler implements IQueryHandler<ListInstancesQuery> {
  constructor(private readonly instances: InstanceRepository) {}

  async execute({ recursion }: ListInstancesQuery): Promise<string[] | InstanceView[]> {
    if (recursion === 0) return (await this.instances.names()).map((n) => `/1.0/instances/${encodeURIComponent(n)}`);
    return (await this.instances.list()).map((i) => i.toView());
  }
}
