/**
 * LXD's instance statuses and their codes (doc/rest-api.md). `Running` from the start of the
 * container's init to its stop, whatever the init; `Ready` only while the guest has declared
 * itself Ready through the guest API (`volatile.last_state.ready`, LXD 5.21's
 * instance_ready_state). systemd's READY=1 is reported apart (the state's `boot`).
 */
export const InstanceStatus = {
  Stopped: 102,
  Running: 103,
  Starting: 106,
  Stopping: 107,
  Frozen: 110,
  Error: 112,
  Ready: 113,
} as const;
export type InstanceStatusName = keyof typeof InstanceStatus;
