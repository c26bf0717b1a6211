import { Query } from '@nestjs/cqrs';
import type { InstanceView } from '../../domain/instance.js';

export class GetInstanceQuery extends Query<{ instance: InstanceView; etag: string }> {
  constructor(readonly name: string) {
    super();
  }
}
