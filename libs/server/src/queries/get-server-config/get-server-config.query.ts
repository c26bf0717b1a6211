import { Query } from '@nestjs/cqrs';

/** `cached: true` answers from the last read when the database cannot be reached. */
export class GetServerConfigQuery extends Query<Record<string, string>> {
  constructor(readonly cached = false) {
    super();
  }
}
