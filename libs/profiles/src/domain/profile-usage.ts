import { Injectable } from '@nestjs/common';
import { Query, QueryBus } from '@nestjs/cqrs';

/**
 * Asks who uses profiles: answered by the context that owns the users (instances), as a map from
 * profile name to API paths such as `/1.0/instances/web1`.
 */
export class ListProfileUsersQuery extends Query<Map<string, string[]>> {}

/** Who uses a profile, through the query bus. */
@Injectable()
export class ProfileUsage {
  constructor(private readonly queries: QueryBus) {}

  async usedBy(profile: string): Promise<string[]> {
    return (await this.usage()).get(profile) ?? [];
  }

  usage(): Promise<Map<string, string[]>> {
    return this.queries.execute(new ListProfileUsersQuery());
  }
}
