import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { InstanceView } from '../../domain/instance.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { GetInstanceQuery } from './get-instance.query.js';

@QueryHandler(GetInstanceQuery)
export class GetInstanceHandler implements IQueryHandler<GetInstanceQuery> {
  constructor(private readonly instances: InstanceRepository) {}

  async execute({ name }: GetInstanceQuery): Promise<{ instance: InstanceView; etag: string }> {
    const instance = await this.instances.get(name);
    return { instance: instance.toView(), etag: instance.etag };
  }
}
