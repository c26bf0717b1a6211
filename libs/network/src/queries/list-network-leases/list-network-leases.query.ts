import { Query } from '@nestjs/cqrs';
import type { LeaseView } from '../../domain/lease-views.js';

export type { LeaseView };

/** A network's leases as LXD's GET /1.0/networks/{name}/leases lists them. */
export class ListNetworkLeasesQuery extends Query<LeaseView[]> {
  constructor(readonly name: string) {
    super();
  }
}
