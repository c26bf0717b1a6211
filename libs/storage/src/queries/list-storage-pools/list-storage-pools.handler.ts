import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { poolUrl, type StoragePoolView } from '../../domain/pool-view.js';
import { PoolCatalog } from '../../infrastructure/pool-catalog.js';
import { PoolViews } from '../pool-views.js';
import { ListStoragePoolsQuery } from './list-storage-pools.query.js';

@QueryHandler(ListStoragePoolsQuery)
export class ListStoragePoolsHandler implements IQueryHandler<ListStoragePoolsQuery> {
  constructor(private readonly catalog: PoolCatalog, private readonly views: PoolViews) {}

  async execute({ recursion, filter }: ListStoragePoolsQuery): Promise<string[] | StoragePoolView[]> {
    const names = this.catalog.names();
    if (recursion === 0 && !filter) return names.map(poolUrl);
    const pools = (await Promise.all(names.map((n) => this.views.pool(n)))).filter((p) => !filter || filter.matches(p));
    return recursion === 0 ? pools.map((p) => poolUrl(p.name)) : pools;
  }
}
