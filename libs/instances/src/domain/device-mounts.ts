import { ValidationError } from '#core';
import { BIND_MOUNT_OPTIONS, BIND_PROPAGATIONS, type DeviceMount } from '#runtime';
import type { Devices } from './expanded.js';

const TRUE = /^(true|1|yes|on)$/i;
const BOOLEAN = /^(true|false|0|1|yes|no|on|off)$/i;

const field = (name: string, key: string) => `devices["${name}"]["${key}"]`;

/** Whether the device is bound into the container by the runtime: a disk with a host source, a unix device. */
function isBound(device: Record<string, string>): boolean {
  if (device.type === 'unix-char' || device.type === 'unix-block') return true;
  return device.type === 'disk' && device.path !== '/' && device.pool === undefined && device.source !== undefined;
}

function absolute(name: string, key: string, value: string): void {
  if (!value.startsWith('/')) throw new ValidationError(field(name, key), `must be an absolute path, not "${value}"`);
  if (value.split('/').includes('..')) throw new ValidationError(field(name, key), 'must not contain ".."');
  if (value.length > 1024) throw new ValidationError(field(name, key), 'must be at most 1024 characters');
}

function integer(name: string, key: string, value: string | undefined, max: number, octal = false): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ok = octal ? /^0?[0-7]{1,4}$/.test(value) : /^\d{1,10}$/.test(value);
  const n = octal ? parseInt(value, 8) : Number(value);
  if (!ok || n > max) throw new ValidationError(field(name, key), octal ? 'must be an octal mode such as 0660' : `must be an integer from 0 to ${max}`);
  return n;
}

/**
 * The rules on the keys of a bound device (LXD's disk and unix-char/unix-block keys): booleans,
 * the mount options a bind takes, the propagations Berth can give it, device numbers, ids and
 * modes. Throws a ValidationError naming the field.
 */
export function checkBoundDevice(name: string, device: Record<string, string>): void {
  for (const key of ['readonly', 'required', 'recursive', 'shift']) {
    const value = device[key];
    if (value !== undefined && value !== '' && !BOOLEAN.test(value)) throw new ValidationError(field(name, key), 'must be a boolean');
  }
  if (!isBound(device)) return;
  if (device.source !== undefined) absolute(name, 'source', device.source);
  if (device.path !== undefined) absolute(name, 'path', device.path);
  const options = device['raw.mount.options'];
  if (options) {
    for (const option of options.split(',')) {
      if (!BIND_MOUNT_OPTIONS.has(option)) {
        throw new ValidationError(field(name, 'raw.mount.options'), `"${option}" is not an option of a bind mount (${[...BIND_MOUNT_OPTIONS].join(', ')})`);
      }
    }
  }
  const propagation = device.propagation;
  if (propagation && !BIND_PROPAGATIONS.has(propagation)) {
    throw new ValidationError(
      field(name, 'propagation'),
      `must be one of ${[...BIND_PROPAGATIONS].join(', ')} (host mounts do not propagate into a Berth container)`,
    );
  }
  if (device.type === 'disk') return;
  integer(name, 'major', device.major, 4095);
  integer(name, 'minor', device.minor, 1048575);
  integer(name, 'uid', device.uid, 0xfffffffe);
  integer(name, 'gid', device.gid, 0xfffffffe);
  integer(name, 'mode', device.mode, 0o7777, true);
  const numbered = device.major !== undefined && device.major !== '' && device.minor !== undefined && device.minor !== '';
  if (device.source === undefined && !(numbered && device.path !== undefined)) {
    throw new ValidationError(field(name, 'source'), `a ${device.type} device needs a source, or a path with major and minor`);
  }
}

/** The expanded devices the runtime binds into the container, in name order. */
export function deviceMounts(devices: Devices): DeviceMount[] {
  return Object.keys(devices)
    .sort()
    .filter((name) => isBound(devices[name]!))
    .map((name) => deviceMount(name, devices[name]!));
}

/** One bound device as the runtime takes it (its keys were checked by checkBoundDevice). */
export function deviceMount(name: string, d: Record<string, string>): DeviceMount {
  const flag = (key: string) => (d[key] === undefined || d[key] === '' ? undefined : TRUE.test(d[key]!));
  const kind = d.type as DeviceMount['kind'];
  const mount: DeviceMount = { name, kind, source: d.source, path: d.path, required: flag('required') };
  if (kind === 'disk') {
    return {
      ...mount,
      readonly: flag('readonly'),
      recursive: flag('recursive'),
      shift: flag('shift'),
      options: d['raw.mount.options'] ? d['raw.mount.options'].split(',') : undefined,
      propagation: d.propagation || undefined,
    };
  }
  return {
    ...mount,
    major: integer(name, 'major', d.major, 4095),
    minor: integer(name, 'minor', d.minor, 1048575),
    uid: integer(name, 'uid', d.uid, 0xfffffffe),
    gid: integer(name, 'gid', d.gid, 0xfffffffe),
    mode: integer(name, 'mode', d.mode, 0o7777, true),
  };
}

/** Whether two versions of a bound device are the same binding (else it is detached and bound again). */
export function sameMount(a: DeviceMount, b: DeviceMount): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
