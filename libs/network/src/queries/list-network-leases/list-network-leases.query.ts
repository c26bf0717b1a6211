import { Query } from '@nestjs/cqrs';

/** LXD's api.NetworkLease. */
export interface LeaseView {
  hostname: string;
  hwaddr: string;
  address: string;
  type: 'dynamic' | 'static';
  location: string;
}

export class ListNetworkLeasesQuery extends Query<LeaseView[]> {
  constructor(readonly name: string) {
    super();
  }
}
