import { Query } from '@nestjs/cqrs';
import type { NetworkView } from '../network-views.js';

/** recursion 0: the networks' paths; 1: their views. */
export class ListNetworksQuery extends Query<string[] | NetworkView[]> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}
