import { ValidationError } from '#core';

type Check = (value: string) => string | undefined;

/** Server-wide settings (`GET /1.0` → config), with LXD's convention of dotted keys. */
const KEYS: Record<string, Check> = {
  /**
   * Memory admission: creating or reconfiguring an instance is refused when the memory limits of
   * all instances would exceed this ratio of the host's memory. Unset: DEFAULT_MEMORY_OVERCOMMIT.
   */
  'limits.memory.overcommit': (v) => (/^\d{1,3}(\.\d{1,3})?$/.test(v) && Number(v) > 0 ? undefined : 'must be a positive ratio such as 1.0 or 1.5'),
  /**
   * Pids admission: starting an instance is refused when the `limits.processes` of the running
   * instances and its own would exceed this share of the kernel's pid_max. Unset:
   * DEFAULT_PROCESSES_SHARE.
   */
  'limits.processes.share': (v) => (/^(0(\.\d{1,3})?|1(\.0{1,3})?)$/.test(v) && Number(v) > 0 ? undefined : 'must be a share of the kernel pid_max from 0.001 to 1.0, such as 0.5'),
};

/**
 * Limits are ceilings, not reservations, but a host whose guests may together ask for more than it
 * has is one OOM away from killing the wrong process: by default the limits may add up to the
 * host's memory and no more.
 */
export const DEFAULT_MEMORY_OVERCOMMIT = 1.0;

/** Half of the pid table for the guests leaves the other half to the host and its daemons. */
export const DEFAULT_PROCESSES_SHARE = 0.5;

export function validateServerConfig(config: unknown): Record<string, string> {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new ValidationError('config', 'must be an object of string values');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const field = `config["${key}"]`;
    if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
    if (/[\u0000\r\n]/.test(value)) throw new ValidationError(field, 'must not contain NUL or newlines');
    const check = KEYS[key];
    if (!check && !(key.startsWith('user.') && key.length > 5)) throw new ValidationError(field, 'unknown server configuration key');
    const reason = value === '' ? undefined : check?.(value);
    if (reason) throw new ValidationError(field, reason);
    if (value !== '') out[key] = value;
  }
  return out;
}

/** The memory admission ratio: the key's value, or the default when it is unset. */
export function overcommitRatio(config: Record<string, string>): number {
  const v = config['limits.memory.overcommit'];
  return v === undefined ? DEFAULT_MEMORY_OVERCOMMIT : Number(v);
}

/** The share of pid_max the running instances' `limits.processes` may add up to. */
export function processesShare(config: Record<string, string>): number {
  const v = config['limits.processes.share'];
  return v === undefined ? DEFAULT_PROCESSES_SHARE : Number(v);
}
