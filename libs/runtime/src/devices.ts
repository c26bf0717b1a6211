import path from 'node:path';

import { InvalidContainerSpecError } from './errors.js';

/**
 * One device bound into a container (LXD's `disk` with a host source, `unix-char`,
 * `unix-block`). A disk's source (a directory, a file, a socket, a device node) is bound at
 * `path`; a unix device's node is made on the host with mknod (major:minor from the fields or
 * from `source`), owned by `uid`/`gid` as the container sees them, allowed in the device cgroup
 * and bound at `path`. Targets are created inside the root if missing (a directory for a
 * directory, an empty file for anything else), resolved in the root.
 */
export interface DeviceMount {
  /** The device's name in the instance's config (it names the device in errors). */
  name: string;
  kind: 'disk' | 'unix-char' | 'unix-block';
  /** Absolute host path; optional for a unix device given by major and minor. */
  source?: string;
  /** Absolute path inside the container; a unix device defaults to its source. */
  path?: string;
  /** Bound read-only (a disk). */
  readonly?: boolean;
  /** false: a missing source is skipped instead of failing the start. Default true. */
  required?: boolean;
  /** Bind the mounts below the source too (a disk). */
  recursive?: boolean;
  /** Idmap the bind onto the container's ids (a disk of an unprivileged container). */
  shift?: boolean;
  /** Mount attributes: ro, rw, nosuid, nodev, noexec, nosymfollow, nodiratime, relatime, noatime, strictatime. */
  options?: string[];
  /** private, rprivate, unbindable or runbindable. */
  propagation?: string;
  major?: number;
  minor?: number;
  uid?: number;
  gid?: number;
  /** Permission bits of a unix device's node (default 0660). */
  mode?: number;
}

/** The mount attributes berth-monitor applies to a bind (what raw.mount.options may say). */
export const BIND_MOUNT_OPTIONS: ReadonlySet<string> = new Set([
  'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'nosymfollow', 'nodiratime', 'relatime', 'noatime', 'strictatime',
]);

/** The propagation types a bind into a container can have (host mounts never propagate in). */
export const BIND_PROPAGATIONS: ReadonlySet<string> = new Set(['private', 'rprivate', 'unbindable', 'runbindable']);

const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const hasDotDot = (p: string) => p.split('/').includes('..');

function uintField(field: string, value: number | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new InvalidContainerSpecError(field, `must be an integer from 0 to ${max}`);
  return value;
}

/** The device as berth-monitor's --device (and device-add) takes it: one flat JSON object. */
export function deviceArgument(device: DeviceMount, field = 'devices'): string {
  const at = `${field}[${device.name}]`;
  if (!DEVICE_NAME.test(device.name)) throw new InvalidContainerSpecError(field, `"${device.name}" is not a device name`);
  if (!['disk', 'unix-char', 'unix-block'].includes(device.kind)) throw new InvalidContainerSpecError(`${at}.kind`, 'must be disk, unix-char or unix-block');
  for (const key of ['source', 'path'] as const) {
    const value = device[key];
    if (value === undefined) continue;
    if (!path.isAbsolute(value) || hasDotDot(value) || /[\0\n]/.test(value) || value.length > 1024) {
      throw new InvalidContainerSpecError(`${at}.${key}`, 'must be an absolute path without ".."');
    }
  }
  if (device.kind === 'disk' && (device.source === undefined || device.path === undefined)) {
    throw new InvalidContainerSpecError(at, 'a disk needs a source and a path');
  }
  if (device.kind !== 'disk' && device.source === undefined && (device.major === undefined || device.minor === undefined || device.path === undefined)) {
    throw new InvalidContainerSpecError(at, 'a unix device needs a source, or a path with major and minor');
  }
  for (const option of device.options ?? []) {
    if (!BIND_MOUNT_OPTIONS.has(option)) throw new InvalidContainerSpecError(`${at}.options`, `${option} is not a bind mount option`);
  }
  if (device.propagation !== undefined && !BIND_PROPAGATIONS.has(device.propagation)) {
    throw new InvalidContainerSpecError(`${at}.propagation`, `must be one of ${[...BIND_PROPAGATIONS].join(', ')}`);
  }
  return JSON.stringify({
    name: device.name,
    kind: device.kind,
    source: device.source,
    path: device.path,
    readonly: device.readonly,
    required: device.required,
    recursive: device.recursive,
    shift: device.shift,
    options: device.options?.join(','),
    propagation: device.propagation,
    major: uintField(`${at}.major`, device.major, 4095),
    minor: uintField(`${at}.minor`, device.minor, 1048575),
    uid: uintField(`${at}.uid`, device.uid, 0xfffffffe),
    gid: uintField(`${at}.gid`, device.gid, 0xfffffffe),
    mode: uintField(`${at}.mode`, device.mode, 0o7777),
  });
}
