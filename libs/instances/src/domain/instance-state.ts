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

/**
 * How the running container's current boot is going (API extension `berth_instance_boot`): what
 * its init is and, for systemd, whether and when it reported READY=1 and which units failed.
 */
export interface InstanceBootView {
  /** `systemd` when PID 1 runs systemd, `other` for any other init (busybox, sysvinit, OpenRC...). */
  init: 'systemd' | 'other';
  /** systemd reported READY=1 in this boot (always false for another init, which has no such signal). */
  ready: boolean;
  /** When it did (RFC 3339), null until then. */
  ready_at: string | null;
  /** Milliseconds from init's start to READY=1, null until then. */
  ready_ms: number | null;
  /**
   * The units systemd has in the failed state (`systemctl --failed`), read at most every few
   * seconds; null before READY=1, for another init, or when systemctl could not answer.
   */
  failed_units: string[] | null;
}

/** LXD's api.InstanceState, plus Berth's I/O counters, OOM kills, applied limits, boot readiness and lxcfs use. */
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
  /** Milliseconds from init's start to systemd's READY=1; null until then (and when stopped). Kept for older clients: `boot.ready_ms`. */
  ready_ms: number | null;
  /** The current boot's init and readiness; null when no container runs. */
  boot: InstanceBootView | null;
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
    boot: null,
    lxcfs: false,
  };
}
