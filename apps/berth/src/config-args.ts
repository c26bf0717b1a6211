// The `<key>=<value>...` and `<key> <value>` forms of `berth profile set`, read as lxc reads them.
import type { ConfigMap } from './api.js';
import { UsageError } from './errors.js';

/**
 * Parse the config arguments of a `set` command. Two arguments whose first holds no `=` are one
 * key and its value; otherwise every argument is `key=value`, split at its first `=`.
 */
export function parseConfigArguments(args: readonly string[]): ConfigMap {
  if (args.length === 0) throw new UsageError('expected <key>=<value>... or <key> <value>');
  const [first, second] = args;
  if (args.length === 2 && first !== undefined && second !== undefined && !first.includes('=')) {
    return { [requireKey(first, first)]: second };
  }
  const config: ConfigMap = {};
  for (const arg of args) {
    const separator = arg.indexOf('=');
    if (separator < 0) {
      throw new UsageError(`invalid argument "${arg}": expected <key>=<value>`);
    }
    config[requireKey(arg.slice(0, separator), arg)] = arg.slice(separator + 1);
  }
  return config;
}

function requireKey(key: string, arg: string): string {
  if (key.trim() === '') throw new UsageError(`invalid argument "${arg}": the key is empty`);
  return key;
}

/**
 * Apply `set` changes to a config: an empty value removes the key, as with `lxc profile set`.
 * Returns a new map; the input is not modified.
 */
export function applyConfigChanges(config: ConfigMap, changes: ConfigMap): ConfigMap {
  const next: ConfigMap = { ...config };
  for (const [key, value] of Object.entries(changes)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}
