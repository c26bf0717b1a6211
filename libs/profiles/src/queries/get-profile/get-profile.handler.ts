import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ProfileView } from '../../domain/profile.js';
import { ProfileUsage } from '../../domain/profile-usage.js';
import { ProfileRepository } from '../../infrastructure/profile.repository.js';
import { GetProfileQuery } from './get-profile.query.js';

@QueryHandler(GetProfileQuery)
export class GetProfileHandler implements IQueryHandler<GetProfileQuery> {
  constructor(private readonly profiles: ProfileRepository, private readonly usage: ProfileUsage) {}

  async execute({ name }: GetProfileQuery): Promise<{ profile: ProfileView; etag: string }> {
    const profile = await this.profiles.get(name);
    return { profile: profile.toView(await this.usage.usedBy(name)), etag: profile.etag };
  }
}
