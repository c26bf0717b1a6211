import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InstanceStatus } from '../../domain/instance-status.js';
import { stoppedState, type InstanceStateView } from '../../domain/instance-state.js';
import type { Instance } from '../../domain/instance.js';
import { ContainerHost } from '../../infrastructure/container-host.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { GetInstanceStateQuery } from './get-instance-state.query.js';

/** The state of one instance: the recorded status, and for a running one what its monitor and cgroup say. */
export async function liveState(instance: Instance, host: ContainerHost): Promise<InstanceStateView> {
  if (!instance.isRunning) return stoppedState(instance.snapshot.status);
  const state = await host.state(instance.name);
  if (state.state === 'Stopped') return stoppedState('Stopped');
  const usage = await host.usage(state);
  const l = usage.limits;
  const status = instance.snapshot.status === 'Frozen' ? 'Frozen' : state.state === 'Ready' ? 'Ready' : 'Running';
  return {
    status,
    status_code: InstanceStatus[status],
    disk: {},
    memory: { usage: usage.memory, usage_peak: usage.memoryPeak, swap_usage: usage.swap, swap_usage_peak: 0 },
    network: await host.addresses(instance),
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
    lxcfs: state.lxcfs,
  };
}

@QueryHandler(GetInstanceStateQuery)
export class GetInstanceStateHandler implements IQueryHandler<GetInstanceStateQuery> {
  constructor(private readonly instances: InstanceRepository, private readonly host: ContainerHost) {}

  async execute({ name }: GetInstanceStateQuery): Promise<InstanceStateView> {
    return liveState(await this.instances.get(name), this.host);
  }
}
