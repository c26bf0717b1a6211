import { Query } from '@nestjs/cqrs';
import type { StoragePoolView } from '../../domain/pool-view.js';

export class GetStoragePoolQuery extends Query<StoragePoolView> {
  constructor(readonly name: string) {
    super();
  }
}
