import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ListProfileUsersQuery } from '#profiles';
import { InstanceRepository } from '../infrastructure/instance.repository.js';

/** Answers the profiles context: which instances use each profile. */
@QueryHandler(ListProfileUsersQuery)
export class ListProfileUsersHandler implements IQueryHandler<ListProfileUsersQuery> {
  constructor(private readonly instances: InstanceRepository) {}

  execute(): Promise<Map<string, string[]>> {
    return this.instances.profileUsers();
  }
}
