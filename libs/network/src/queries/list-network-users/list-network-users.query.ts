import { Query } from '@nestjs/cqrs';

/**
 * Asks who uses a network: answered by the context that owns the instances, as the names (in
 * name order) of the instances with a nic of their expanded devices whose `network` or `parent`
 * is `network`.
 */
export class ListNetworkUsersQuery extends Query<string[]> {
  constructor(readonly network: string) {
    super();
  }
}
