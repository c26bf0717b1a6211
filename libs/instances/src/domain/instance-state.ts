import { InstanceStatus, type InstanceStatusName } from './instance-status.js';

/** LXD's api.InstanceState. */
export interface InstanceStateView {
  status: InstanceStatusName;
  status_code: number;
  disk: Record<string, { usage: number }>;
  memory: { usage: number; usage_peak: number; swap_usage: number; swap_usage_peak: number };
  network: Record<string, unknown> | null;
  pid: number;
  processes: number;
  cpu: { usage: number };
}

/** The state of an instance with no container running: nothing is used. */
export function stoppedState(status: InstanceStatusName): InstanceStateView {
  return {
    status,
    status_code: InstanceStatus[status],
    disk: {},
    memory: { usage: 0, usage_peak: 0, swap_usage: 0, swap_usage_peak: 0 },
    network: null,
    pid: 0,
    processes: 0,
    cpu: { usage: 0 },
  };
}
