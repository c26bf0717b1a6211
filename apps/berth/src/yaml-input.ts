// Reading YAML that a user wrote (`image edit`, `config edit`, `network edit`): each reader
// checks one field's type and names the document and the field in its message.
import { parse as parseYaml } from 'yaml';
import type { ConfigMap } from './api.js';
import { UsageError } from './errors.js';

export function parseYamlMapping(text: string, what: string, expected: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`invalid YAML: ${(message.split('\n')[0] ?? message).replace(/:$/, '')}`);
  }
  if (!isMapping(document)) throw new UsageError(`invalid ${what}: expected a YAML mapping with ${expected}`);
  return document;
}

export function readBoolean(value: unknown, what: string, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new UsageError(`invalid ${what}: ${field} must be true or false`);
  return value;
}

export function readString(value: unknown, what: string, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new UsageError(`invalid ${what}: ${field} must be a string`);
  return value;
}

/** A mapping of strings; YAML scalars (`2`, `true`) become the strings the API stores. */
export function readStringMap(value: unknown, what: string, field: string): ConfigMap {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new UsageError(`invalid ${what}: ${field} must be a mapping`);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (typeof item === 'string') return [key, item];
      if (typeof item === 'number' || typeof item === 'boolean') return [key, String(item)];
      throw new UsageError(`invalid ${what}: ${field}.${key} must be a string`);
    }),
  );
}

export function readStringList(value: unknown, what: string, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new UsageError(`invalid ${what}: ${field} must be a list of names`);
  }
  return value;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
