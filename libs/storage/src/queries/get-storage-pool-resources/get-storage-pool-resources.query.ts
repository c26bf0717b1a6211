import { Query } from '@nestjs/cqrs';
import type { PoolResources } from '../../infrastructure/pool-catalog.js';

/** `GET /1.0/storage-pools/{name}/resources`: space and inodes of the pool's filesystem. */
export class GetStoragePoolResourcesQuery extends Query<PoolResources> {
  constructor(readonly name: string) {
    super();
  }
}
