import { Query } from '@nestjs/cqrs';
import type { ProfileView } from '../../domain/profile.js';

export class ListProfilesQuery extends Query<string[] | ProfileView[]> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}
