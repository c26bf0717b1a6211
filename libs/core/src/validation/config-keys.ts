import { parseDocument } from 'yaml';
import { ValidationError } from '../errors/domain-error.js';
import { parseRawLxc } from './raw-lxc.js';

type Check = (value: string) => string | undefined; // returns a reason when invalid

const bool: Check = (v) => (/^(true|false|0|1|yes|no|on|off)$/i.test(v) ? undefined : 'must be a boolean');
const uint: Check = (v) => (/^\d+$/.test(v) ? undefined : 'must be a non-negative integer');
const int: Check = (v) => (/^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? undefined : 'must be an integer');
const range = (lo: number, hi: number): Check => (v) =>
  /^\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi ? undefined : `must be an integer from ${lo} to ${hi}`;
const oneOf = (...values: string[]): Check => (v) => (values.includes(v) ? undefined : `must be one of ${values.join(', ')}`);
const any: Check = () => undefined;
const yamlReason = (text: string): string | undefined => {
  const errors = parseDocument(text).errors;
  return errors.length ? `must be valid YAML (${errors[0].message.split('\n')[0]})` : undefined;
};
/** cloud-init user-data and vendor-data: a `#cloud-config` document must be YAML; other formats (scripts, MIME) are the guest's business. */
const cloudConfig: Check = (v) => (/^#cloud-config[ \t]*(\r?\n|$)/.test(v) ? yamlReason(v) : undefined);
const refuseTrue = (reason: string): Check => (v) => (bool(v) ?? (/^(true|1|yes|on)$/i.test(v) ? reason : undefined));

/** Instance (and profile) configuration keys Berth understands, with LXD's names. */
const KEYS: Record<string, Check> = {
  'boot.autostart': bool,
  'boot.autostart.delay': uint,
  'boot.autostart.priority': int,
  'boot.host_shutdown_timeout': uint,
  'boot.stop.priority': uint,
  // limits.* values are parsed by the quotas context (parseQuota), the one authority on them.
  'limits.cpu': any,
  'limits.cpu.allowance': any,
  'limits.cpu.priority': any,
  'limits.memory': any,
  'limits.memory.enforce': any,
  'limits.memory.swap': any,
  'limits.memory.swap.priority': range(0, 10),
  'limits.processes': any,
  'limits.disk.priority': any,
  'security.privileged': bool,
  'security.nesting': bool,
  'security.idmap.isolated': bool,
  'security.idmap.size': uint,
  'security.idmap.base': uint,
  'security.protection.delete': bool,
  'security.protection.start': bool,
  'security.devlxd': bool,
  'security.devlxd.images': refuseTrue('cannot be true: Berth does not serve images to guests'),
  'security.syscalls.intercept.mknod': bool,
  'security.syscalls.intercept.setxattr': bool,
  'snapshots.schedule': any,
  'snapshots.schedule.stopped': bool,
  'snapshots.pattern': any,
  'snapshots.expiry': any,
  'linux.kernel_modules': any,
  'raw.idmap': any,
  'cloud-init.user-data': cloudConfig,
  'cloud-init.vendor-data': cloudConfig,
  'cloud-init.network-config': yamlReason,
  'user.user-data': any,
  'user.vendor-data': any,
  'user.network-config': any,
  'user.meta-data': any,
  // Only lxc.signal.halt (raw-lxc.ts): the one LXC setting an init of its own needs.
  'raw.lxc': (v) => {
    const parsed = parseRawLxc(v);
    return typeof parsed === 'string' ? parsed : undefined;
  },
};

const FREE_PREFIXES = ['user.', 'environment.', 'linux.sysctl.', 'limits.kernel.', 'cloud-init.'];

/** Namespaces whose values are documents for the guest (cloud-init's user-data, meta-data): several lines. */
const MULTILINE_PREFIXES = ['user.', 'cloud-init.'];
/** Keys whose value is lines of text, as LXD's. */
const MULTILINE_KEYS = new Set(['raw.lxc']);

function checkValue(field: string, value: unknown, multiline = false): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.includes('\u0000')) throw new ValidationError(field, 'must not contain NUL characters');
  if (!multiline && /[\r\n]/.test(value)) throw new ValidationError(field, 'must not contain newlines');
  return value;
}

function checkKey(field: string, key: string): void {
  if (key.length === 0 || key.length > 255 || !/^[A-Za-z0-9._\-/]+$/.test(key)) {
    throw new ValidationError(field, 'is not a valid configuration key');
  }
}

/**
 * Validates a config map (instance or profile); returns a fresh, prototype-free copy. A key whose
 * value is empty is unset, as in LXD (`lxc profile unset` sends the key with ""): it is left out,
 * whatever its kind (an empty boolean is no boolean, yet no error).
 */
export function validateConfig(config: unknown, fieldName = 'config'): Record<string, string> {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new ValidationError(fieldName, 'must be an object of string values');
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(config)) {
    const field = `${fieldName}["${key}"]`;
    checkKey(field, key);
    const text = checkValue(field, value, MULTILINE_KEYS.has(key) || MULTILINE_PREFIXES.some((p) => key.startsWith(p)));
    if (text === '' && !key.startsWith('volatile.')) continue;
    if (key.startsWith('volatile.')) throw new ValidationError(field, 'volatile keys are owned by the server');
    const check = KEYS[key];
    if (!check && !FREE_PREFIXES.some((p) => key.startsWith(p) && key.length > p.length)) {
      throw new ValidationError(field, 'unknown configuration key');
    }
    const reason = check?.(text);
    if (reason) throw new ValidationError(field, reason);
    out[key] = text;
  }
  return { ...out };
}

/** PATCH of a config map: the keys given replace the current ones, and a key given as "" is removed. */
export function mergeConfig(current: Readonly<Record<string, string>>, changes: unknown, fieldName = 'config'): Record<string, string> {
  const merged: Record<string, string> = { ...current, ...validateConfig(changes, fieldName) };
  if (typeof changes === 'object' && changes !== null) {
    for (const [key, value] of Object.entries(changes)) if (value === '') delete merged[key];
  }
  return merged;
}

const DEVICE_TYPES: Record<string, readonly string[]> = {
  none: [],
  disk: ['path', 'source', 'pool', 'size', 'readonly', 'shift', 'recursive', 'propagation', 'required', 'limits.read', 'limits.write', 'limits.max', 'raw.mount.options', 'boot.priority'],
  nic: ['nictype', 'network', 'parent', 'name', 'hwaddr', 'mtu', 'host_name', 'ipv4.address', 'ipv6.address', 'ipv4.routes', 'vlan', 'security.mac_filtering', 'security.ipv4_filtering', 'limits.ingress', 'limits.egress', 'limits.max', 'limits.priority', 'boot.priority'],
  proxy: ['listen', 'connect', 'bind', 'nat', 'proxy_protocol', 'security.uid', 'security.gid', 'uid', 'gid', 'mode'],
  'unix-char': ['source', 'path', 'major', 'minor', 'uid', 'gid', 'mode', 'required'],
  'unix-block': ['source', 'path', 'major', 'minor', 'uid', 'gid', 'mode', 'required'],
};

/** The device types Berth knows (LXD's names), in the order its messages list them. */
export const DEVICE_TYPE_NAMES: readonly string[] = Object.keys(DEVICE_TYPES);

/** Validates a devices map: each device is an object with a known `type` and that type's keys. */
export function validateDevices(devices: unknown, fieldName = 'devices'): Record<string, Record<string, string>> {
  if (devices === undefined || devices === null) return {};
  if (typeof devices !== 'object' || Array.isArray(devices)) throw new ValidationError(fieldName, 'must be an object of devices');
  const out: Record<string, Record<string, string>> = {};
  for (const [name, device] of Object.entries(devices)) {
    const field = `${fieldName}["${name}"]`;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new ValidationError(field, 'is not a valid device name');
    if (typeof device !== 'object' || device === null || Array.isArray(device)) throw new ValidationError(field, 'must be an object');
    const type = (device as Record<string, unknown>).type;
    if (typeof type !== 'string' || !(type in DEVICE_TYPES)) {
      throw new ValidationError(`${field}.type`, `must be one of ${DEVICE_TYPE_NAMES.join(', ')}`);
    }
    const allowed = DEVICE_TYPES[type];
    const copy: Record<string, string> = {};
    for (const [key, value] of Object.entries(device)) {
      const keyField = `${field}["${key}"]`;
      if (key !== 'type' && !allowed.includes(key) && !key.startsWith('user.')) throw new ValidationError(keyField, `unknown key for a ${type} device`);
      copy[key] = checkValue(keyField, value);
    }
    out[name] = copy;
  }
  return out;
}

/** Strings without NUL or newlines, as LXD accepts for descriptions. */
export function validateDescription(value: unknown, field = 'description'): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.includes('\u0000')) throw new ValidationError(field, 'must not contain NUL characters');
  if (value.length > 4096) throw new ValidationError(field, 'must be at most 4096 characters');
  return value;
}
