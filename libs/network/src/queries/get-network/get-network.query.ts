import { Query } from '@nestjs/cqrs';
import type { NetworkView } from '../network-views.js';

export class GetNetworkQuery extends Query<NetworkView> {
  constructor(readonly name: string) {
    super();
  }
}
