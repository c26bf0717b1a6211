import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ProfileView } from '../../domain/profile.js';
import { ProfileUsage } from '../../domain/profile-usage.js';
import { ProfileRepository } from '../../infrastructure/profile.repository.js';
import { ListProfilesQuery } from './list-profiles.query.js';

@QueryHandler(ListProfilesQuery)
export class ListProfilesHandler implements IQueryHandler<ListProfilesQuery> {
  constructor(private readonly profiles: ProfileRepository, private readonly usage: ProfileUsage) {}

  async execute({ recursion }: ListProfilesQuery): Promise<string[] | ProfileView[]> {
    if (recursion === 0) return (await this.profiles.names()).map((n) => `/1.0/profiles/${encodeURIComponent(n)}`);
    const [profiles, usage] = await Promise.all([this.profiles.list(), this.usage.usage()]);
    return profiles.map((p) => p.toView(usage.get(p.name) ?? []));
  }
}
