import { InstanceStatus, type InstanceStatusName } from './instance-status.js';

/**
 * The limits in force in a running container's cgroup, read back from the kernel (null: none).
 * A Berth addition to LXD's state.
 */
export interface InstanceLimitsView {
  memory: number | null;
  memory_soft: number | null;
  /** Swap allowed beyond the memory limit; 0 is none, null is no limit. */
  swap: number | null;
  cpus: string;
  cpu_allowance: { quota_us: number; period_us: number } | null;
  /** cpu.shares on cgroup v1, cpu.weight on v2. */
  cpu_weight: number | null;
  processes: number | null;
}

/** LXD's api.InstanceState, plus Berth's I/O counters, OOM kills, applied limits, READY=1 time and lxcfs use. */
export interface InstanceStateView {
  status: InstanceStatusName;
  status_code: number;
  disk: Record<string, { usage: number }>;
  memory: { usage: number; usage_peak: number; swap_usage: number; swap_usage_peak: number };
  network: Record<string, unknown> | null;
  pid: number;
  processes: number;
  cpu: { usage: number };
  io: { read_bytes: number; written_bytes: number };
  /** Processes the kernel's OOM killer ended in the container's current cgroup. */
  oom_kills: number;
  limits: InstanceLimitsView | null;
  /** Milliseconds from init's start to systemd's READY=1; null until then (and when stopped). */
  ready_ms: number | null;
  /** Whether lxcfs' /proc and /sys files are bound into the container (free, uptime show its limits). */
  lxcfs: boolean;
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
    io: { read_bytes: 0, written_bytes: 0 },
    oom_kills: 0,
    limits: null,
    ready_ms: null,
    lxcfs: false,
  };
}
