import { Query } from '@nestjs/cqrs';
import type { Filter } from '#core';
import type { StoragePoolView } from '../../domain/pool-view.js';

/** `GET /1.0/storage-pools`: URLs at recursion 0, views at 1; `filter` in LXD's language. */
export class ListStoragePoolsQuery extends Query<string[] | StoragePoolView[]> {
  constructor(readonly recursion: 0 | 1, readonly filter?: Filter) {
    super();
  }
}
