import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { StoragePoolView } from '../../domain/pool-view.js';
import { PoolViews } from '../pool-views.js';
import { GetStoragePoolQuery } from './get-storage-pool.query.js';

@QueryHandler(GetStoragePoolQuery)
export class GetStoragePoolHandler implements IQueryHandler<GetStoragePoolQuery> {
  constructor(private readonly views: PoolViews) {}

  execute({ name }: GetStoragePoolQuery): Promise<StoragePoolView> {
    return this.views.pool(name);
  }
}
