import { ValidationError } from '#core';

type Check = (value: string) => string | undefined;

/** Server-wide settings (`GET /1.0` → config), with LXD's convention of dotted keys. */
const KEYS: Record<string, Check> = {
  /**
   * Memory admission: creating, starting or reconfiguring an instance is refused when the memory
   * limits of all instances would exceed this ratio of the host's memory. Unset: no admission.
   */
  'limits.memory.overcommit': (v) => (/^\d{1,3}(\.\d{1,3})?$/.test(v) && Number(v) > 0 ? undefined : 'must be a positive ratio such as 1.0 or 1.5'),
};

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

/** The admission ratio, if admission is on. */
export function overcommitRatio(config: Record<string, string>): number | undefined {
  const v = config['limits.memory.overcommit'];
  return v === undefined ? undefined : Number(v);
}
