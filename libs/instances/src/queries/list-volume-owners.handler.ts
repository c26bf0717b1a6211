import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ListVolumeOwnersQuery } from '#storage';
import { InstanceRepository } from '../infrastructure/instance.repository.js';

/** Answers the storage context: the instances, each the owner of its root volume. */
@QueryHandler(ListVolumeOwnersQuery)
export class ListVolumeOwnersHandler implements IQueryHandler<ListVolumeOwnersQuery> {
  constructor(private readonly instances: InstanceRepository) {}

  async execute(): Promise<string[]> {
    return (await this.instances.list()).map((i) => i.name);
  }
}
