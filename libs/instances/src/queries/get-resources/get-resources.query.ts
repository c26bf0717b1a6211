import { Query } from '@nestjs/cqrs';
import type { CommittedTotals } from '#quotas';

/** LXD's api.Resources (the parts Berth reports), plus what instances have been promised. */
export interface ResourcesView {
  cpu: { architecture: string; total: number; online: string };
  memory: { total: number; used: number };
  committed: Omit<CommittedTotals, 'memory_bytes'> & { memory_bytes: number };
  admission: { memory_overcommit: number | null; memory_allowed: number | null };
}

export class GetResourcesQuery extends Query<ResourcesView> {}
