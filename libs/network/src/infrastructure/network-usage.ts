import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ListProfilesQuery, type ProfileView } from '#profiles';
import { ListNetworkUsersQuery } from '../queries/list-network-users/list-network-users.query.js';

/** Who uses a network, asked of the contexts that own the users, through the query bus. */
@Injectable()
export class NetworkUsage {
  constructor(private readonly queries: QueryBus) {}

  /** `/1.0/instances/<name>` of each instance whose expanded devices have a nic on the network, by name. */
  async instances(network: string): Promise<string[]> {
    return (await this.queries.execute(new ListNetworkUsersQuery(network))).map((name) => `/1.0/instances/${encodeURIComponent(name)}`);
  }

  /** `/1.0/profiles/<name>` of each profile with a nic on the network, by name. */
  async profiles(network: string): Promise<string[]> {
    const profiles = (await this.queries.execute(new ListProfilesQuery(1))).filter((p): p is ProfileView => typeof p !== 'string');
    return profiles
      .filter((p) => Object.values(p.devices).some((d) => d.type === 'nic' && (d.network === network || d.parent === network)))
      .map((p) => `/1.0/profiles/${encodeURIComponent(p.name)}`);
  }
}
