import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { PoolCatalog, type PoolResources } from '../../infrastructure/pool-catalog.js';
import { GetStoragePoolResourcesQuery } from './get-storage-pool-resources.query.js';

@QueryHandler(GetStoragePoolResourcesQuery)
export class GetStoragePoolResourcesHandler implements IQueryHandler<GetStoragePoolResourcesQuery> {
  constructor(private readonly catalog: PoolCatalog) {}

  async execute({ name }: GetStoragePoolResourcesQuery): Promise<PoolResources> {
    return this.catalog.resources(await this.catalog.open(name));
  }
}
