import { arch } from 'node:os';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { HOST_CAPACITY, type HostCapacity } from '#quotas';
import type { ConfigLayer } from '../../domain/expanded.js';
import { Instance } from '../../domain/instance.js';
import { ProfileResolver } from '../../infrastructure/profile-resolver.js';
import { PreviewInstanceQuery } from './preview-instance.query.js';

@QueryHandler(PreviewInstanceQuery)
export class PreviewInstanceHandler implements IQueryHandler<PreviewInstanceQuery> {
  constructor(
    private readonly profiles: ProfileResolver,
    @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity,
  ) {}

  async execute({ request }: PreviewInstanceQuery): Promise<ConfigLayer> {
    const instance = Instance.create({ ...request, architecture: arch(), imageFingerprint: null }, await this.profiles.load(), this.capacity);
    return instance.expanded;
  }
}
