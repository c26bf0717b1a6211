// The YAML a user sees and edits for a profile, and its translation back into the body of
// `PUT /1.0/profiles/{name}`.
import { parse as parseYaml } from 'yaml';
import type { ConfigMap, DeviceMap, Profile, ProfilePut } from './api.js';
import { UsageError } from './errors.js';

/**
 * What `profile show` prints and `profile edit` opens: the profile in LXD's field order, with
 * config keys and devices sorted (the server's order is its storage's, not the user's).
 */
export function profileDocument(profile: Profile): Profile {
  return {
    name: profile.name,
    description: profile.description,
    config: sortedByKey(profile.config ?? {}),
    devices: sortedByKey(
      Object.fromEntries(Object.entries(profile.devices ?? {}).map(([name, device]) => [name, sortedByKey(device)])),
    ),
    used_by: profile.used_by ?? [],
  };
}

function sortedByKey<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const EDIT_HEADER = [
  '### This is a YAML representation of the profile.',
  '### Any line starting with a # is ignored.',
  '###',
  '### A profile has the following format:',
  '### name: web',
  '### description: Web servers',
  '### config:',
  '###   limits.memory: 2GiB',
  '###   user.owner: ops',
  '### devices:',
  '###   eth0:',
  '###     type: nic',
  '###     network: berthbr0',
  '###',
  '### The name and used_by are shown for reference; use "berth profile rename" to rename.',
].join('\n');

const READ_ONLY_FIELDS = new Set(['name', 'used_by']);
const WRITABLE_FIELDS = new Set(['description', 'config', 'devices']);

/**
 * Read an edited profile. The YAML must be a mapping of description, config and devices; `name`
 * may stay but not change, `used_by` is ignored. Scalar config and device values (a YAML `2` or
 * `true`) become the strings the API stores.
 */
export function parseProfileYaml(text: string, profileName: string): ProfilePut {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new UsageError(`invalid YAML: ${firstLine(err)}`);
  }
  if (!isMapping(document)) {
    throw new UsageError('invalid profile: expected a YAML mapping with description, config and devices');
  }
  for (const field of Object.keys(document)) {
    if (!READ_ONLY_FIELDS.has(field) && !WRITABLE_FIELDS.has(field)) {
      throw new UsageError(`invalid profile: unknown field "${field}"`);
    }
  }
  if (document.name !== undefined && document.name !== profileName) {
    throw new UsageError(
      `invalid profile: the name cannot be changed here (use "berth profile rename ${profileName} <new>")`,
    );
  }
  return {
    description: readDescription(document.description),
    config: readStringMap(document.config, 'config'),
    devices: readDevices(document.devices),
  };
}

function readDescription(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new UsageError('invalid profile: description must be a string');
  return value;
}

function readDevices(value: unknown): DeviceMap {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new UsageError('invalid profile: devices must be a mapping of device names');
  return Object.fromEntries(
    Object.entries(value).map(([device, options]) => {
      const field = `devices.${device}`;
      if (!isMapping(options)) throw new UsageError(`invalid profile: ${field} must be a mapping`);
      return [device, readStringMap(options, field)];
    }),
  );
}

function readStringMap(value: unknown, field: string): ConfigMap {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new UsageError(`invalid profile: ${field} must be a mapping`);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (typeof item === 'string') return [key, item];
      if (typeof item === 'number' || typeof item === 'boolean') return [key, String(item)];
      throw new UsageError(`invalid profile: ${field}.${key} must be a string`);
    }),
  );
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? message).replace(/:$/, '');
}
