import { Query } from '@nestjs/cqrs';
import type { ProfileView } from '../../domain/profile.js';

export class GetProfileQuery extends Query<{ profile: ProfileView; etag: string }> {
  constructor(readonly name: string) {
    super();
  }
}
