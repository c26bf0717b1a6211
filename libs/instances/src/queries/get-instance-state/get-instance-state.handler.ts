import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { stoppedState, type InstanceStateView } from '../../domain/instance-state.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { GetInstanceStateQuery } from './get-instance-state.query.js';

/** Until the runtime is wired in, no instance can be running: every state is that of a stopped one. */
@QueryHandler(GetInstanceStateQuery)
export class GetInstanceStateHandler implements IQueryHandler<GetInstanceStateQuery> {
  constructor(private readonly instances: InstanceRepository) {}

  async execute({ name }: GetInstanceStateQuery): Promise<InstanceStateView> {
    const instance = await this.instances.get(name);
    return stoppedState(instance.snapshot.status);
  }
}
