import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { InstanceView } from '../../domain/instance.js';
import { LiveState } from '../get-instance-state/get-instance-state.handler.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ListInstancesQuery, type InstanceFullView } from './list-instances.query.js';

@QueryHandler(ListInstancesQuery)
export class ListInstancesHandler implements IQueryHandler<ListInstancesQuery> {
  constructor(private readonly instances: InstanceRepository, private readonly live: LiveState) {}

  async execute({ recursion, filter }: ListInstancesQuery): Promise<string[] | InstanceView[] | InstanceFullView[]> {
    if (recursion === 0 && !filter) return (await this.instances.names()).map((n) => `/1.0/instances/${encodeURIComponent(n)}`);
    const all = await this.instances.list();
    const full: InstanceFullView[] = await Promise.all(all.map(async (i) => ({ ...i.toView(), state: await this.live.of(i, { failedUnits: 'cached' }), snapshots: [], backups: [] })));
    const selected = filter ? full.filter((i) => filter.matches(i)) : full;
    if (recursion === 0) return selected.map((i) => `/1.0/instances/${encodeURIComponent(i.name)}`);
    if (recursion === 1) return selected.map(({ state: _s, snapshots: _n, backups: _b, ...view }) => view);
    return selected;
  }
}
