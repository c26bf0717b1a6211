/** LXD's instance statuses and their codes (doc/rest-api.md). `Ready` means systemd reported READY=1. */
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
