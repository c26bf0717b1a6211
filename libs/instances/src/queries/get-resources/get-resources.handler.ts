import { readFileSync } from 'node:fs';
import { machine } from 'node:os';
import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { committedTotals, HOST_CAPACITY, type HostCapacity } from '#quotas';
import { Admission } from '../../infrastructure/admission.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { GetResourcesQuery, type ResourcesView } from './get-resources.query.js';

function memoryUsed(): number {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(info)?.[1] ?? 0);
  return (kb('MemTotal') - kb('MemAvailable')) * 1024;
}

/** Host capacity beside the committed totals of every instance's expanded limits. */
@QueryHandler(GetResourcesQuery)
export class GetResourcesHandler implements IQueryHandler<GetResourcesQuery> {
  constructor(private readonly instances: InstanceRepository, private readonly admission: Admission, @Inject(HOST_CAPACITY) private readonly capacity: HostCapacity) {}

  async execute(): Promise<ResourcesView> {
    const all = await this.instances.list();
    const totals = committedTotals(all.map((i) => this.admission.quotaOf(i.expanded.config)));
    const ratio = await this.admission.ratio();
    return {
      cpu: { architecture: machine(), total: this.capacity.cpus.length, online: this.capacity.cpus.join(',') },
      memory: { total: Number(this.capacity.memoryBytes), used: memoryUsed() },
      committed: { ...totals, memory_bytes: Number(totals.memory_bytes) },
      admission: { memory_overcommit: ratio, memory_allowed: Math.floor(Number(this.capacity.memoryBytes) * ratio) },
    };
  }
}
