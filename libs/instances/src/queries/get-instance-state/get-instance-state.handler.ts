import { Injectable } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InstanceNics } from '#network';
import { CgroupLimits } from '#quotas';
import { Runtime } from '#runtime';
import { InstanceStatus } from '../../domain/instance-status.js';
import { stoppedState, type InstanceStateView } from '../../domain/instance-state.js';
import type { Instance } from '../../domain/instance.js';
import { FailedUnits } from '../../infrastructure/failed-units.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { GetInstanceStateQuery } from './get-instance-state.query.js';

/** The state of one instance: the recorded status, and for a running one what its monitor, cgroup and network say. */
@Injectable()
export class LiveState {
  constructor(
    private readonly runtime: Runtime,
    private readonly limits: CgroupLimits,
    private readonly nics: InstanceNics,
    private readonly failedUnits: FailedUnits,
  ) {}

  /**
   * `failedUnits: 'cached'` (lists) runs no systemctl: the last answer read, or null (see
   * FailedUnits). Nor does a frozen instance, whose systemctl would be frozen with it.
   */
  async of(instance: Instance, { failedUnits: units = 'ask' }: { failedUnits?: 'ask' | 'cached' } = {}): Promise<InstanceStateView> {
    if (!instance.isRunning) return stoppedState(instance.state.status);
    const state = await this.runtime.state(instance.name);
    if (state.state === 'Stopped') return stoppedState('Stopped');
    const [usage, failedUnits] = await Promise.all([this.limits.usage(state), this.failedUnits.of(instance.name, state, { ask: units === 'ask' && instance.state.status !== 'Frozen' })]);
    const l = usage.limits;
    const recorded = instance.state.status;
    const status = recorded === 'Frozen' || recorded === 'Ready' ? recorded : 'Running';
    return {
      status,
      status_code: InstanceStatus[status],
      disk: {},
      memory: { usage: usage.memory, usage_peak: usage.memoryPeak, swap_usage: usage.swap, swap_usage_peak: 0 },
      network: await this.nics.addresses(instance.nicHolder()),
      pid: state.pid,
      processes: usage.processes,
      cpu: { usage: usage.cpuNs },
      io: { read_bytes: usage.io.readBytes, written_bytes: usage.io.writtenBytes },
      oom_kills: usage.oomKills,
      limits: {
        memory: l.memory,
        memory_soft: l.memorySoft,
        swap: l.swap,
        cpus: l.cpus,
        cpu_allowance: l.cpuQuota && { quota_us: l.cpuQuota.quotaUs, period_us: l.cpuQuota.periodUs },
        cpu_weight: l.cpuWeight,
        processes: l.processes,
      },
      ready_ms: state.readyMs,
      boot: {
        init: state.init,
        ready: state.readyMs !== null,
        ready_at: state.readyMs === null ? null : new Date(state.startedAt.getTime() + state.readyMs).toISOString(),
        ready_ms: state.readyMs,
        failed_units: failedUnits,
      },
      lxcfs: state.lxcfs,
    };
  }
}

@QueryHandler(GetInstanceStateQuery)
export class GetInstanceStateHandler implements IQueryHandler<GetInstanceStateQuery> {
  constructor(private readonly instances: InstanceRepository, private readonly live: LiveState) {}

  async execute({ name }: GetInstanceStateQuery): Promise<InstanceStateView> {
    return this.live.of(await this.instances.get(name));
  }
}
