import { stringify } from 'yaml';
import { ValidationError } from '#core';
import { parseImageMetadata, type ImageMetadata } from './image-metadata.js';

/** LXD's api.ImageMetadataTemplate, as GET/PUT /1.0/instances/{name}/metadata carry it. */
export interface ApiImageMetadataTemplate {
  when: string[];
  create_only: boolean;
  template: string;
  properties: Record<string, string>;
}

/** LXD's api.ImageMetadata: an instance volume's metadata.yaml in the API's JSON. */
export interface ApiImageMetadata {
  architecture: string;
  creation_date: number;
  expiry_date: number;
  properties: Record<string, string>;
  templates: Record<string, ApiImageMetadataTemplate>;
}

/** What GET answers for a volume without metadata.yaml (LXD's empty api.ImageMetadata). */
export function emptyApiMetadata(): ApiImageMetadata {
  return { architecture: '', creation_date: 0, expiry_date: 0, properties: {}, templates: {} };
}

/** metadata.yaml as the API shows it, after the same validation the template renderer applies. */
export function apiMetadataFromYaml(text: string): ApiImageMetadata {
  return toApi(parseImageMetadata(text));
}

function toApi(metadata: ImageMetadata): ApiImageMetadata {
  return {
    architecture: metadata.architecture,
    creation_date: metadata.creationDate,
    expiry_date: metadata.expiryDate ?? 0,
    properties: { ...metadata.properties },
    templates: Object.fromEntries(
      metadata.templates.map((t) => [t.path, { when: [...t.when], create_only: t.createOnly, template: t.template, properties: { ...t.properties } }]),
    ),
  };
}

/**
 * PATCH: the body's top-level fields replace the current ones, except `properties` and
 * `templates`, whose keys are merged in (LXD decodes the body onto the current struct).
 */
export function mergeApiMetadata(current: ApiImageMetadata, patch: unknown): unknown {
  const body = asObject(patch, '(body)');
  const merged: Record<string, unknown> = { ...current, ...body };
  for (const key of ['properties', 'templates'] as const) {
    const given = body[key];
    if (given !== undefined && given !== null && typeof given === 'object' && !Array.isArray(given)) merged[key] = { ...current[key], ...(given as object) };
  }
  return merged;
}

/**
 * The text of metadata.yaml for a PUT body (LXD's api.ImageMetadata as JSON): field types are
 * checked here with the field's name, then the YAML written is parsed back with the renderer's
 * own rules (known architecture, clean absolute template paths, known triggers), so what is
 * stored is exactly what the next start can render.
 */
export function metadataYamlFromApi(input: unknown): { yaml: string; metadata: ApiImageMetadata } {
  const body = asObject(input, '(body)');
  const architecture = optional(body, 'architecture', 'string', '') as string;
  const creationDate = unixTime(body, 'creation_date');
  const expiryDate = unixTime(body, 'expiry_date');
  const properties = stringMap(body.properties, 'properties');
  const templates: Record<string, Record<string, unknown>> = {};
  const given = body.templates === null || body.templates === undefined ? {} : asObject(body.templates, 'templates');
  for (const [path, raw] of Object.entries(given)) {
    const field = `templates[${JSON.stringify(path)}]`;
    const spec = asObject(raw, field);
    const when = spec.when === null || spec.when === undefined ? [] : spec.when;
    if (!Array.isArray(when) || when.some((t) => typeof t !== 'string')) throw new ValidationError(`${field}.when`, 'must be a list of triggers');
    const template = optional(spec, 'template', 'string', '', field) as string;
    const createOnly = optional(spec, 'create_only', 'boolean', false, field) as boolean;
    templates[path] = { when, create_only: createOnly, template, properties: stringMap(spec.properties, `${field}.properties`) };
  }
  const document = {
    architecture,
    creation_date: creationDate,
    ...(expiryDate === 0 ? {} : { expiry_date: expiryDate }),
    properties,
    templates,
  };
  const yaml = stringify(document, { aliasDuplicateObjects: false });
  return { yaml, metadata: apiMetadataFromYaml(yaml) };
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(field, 'must be an object');
  return value as Record<string, unknown>;
}

function optional(body: Record<string, unknown>, key: string, type: 'string' | 'boolean', fallback: unknown, parent?: string): unknown {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== type) throw new ValidationError(parent ? `${parent}.${key}` : key, `must be a ${type}`);
  return value;
}

function unixTime(body: Record<string, unknown>, key: string): number {
  const value = body[key];
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ValidationError(key, 'must be a Unix time in seconds');
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const entries = Object.entries(asObject(value, field));
  for (const [key, item] of entries) if (typeof item !== 'string') throw new ValidationError(`${field}.${key}`, 'must be a string');
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * A template's name as `lxc config template` gives it: a plain file name in the volume's
 * templates/ directory (LXD refuses a "/"; "." and ".." and NUL are refused too).
 */
export function validateTemplateName(value: string | undefined): string {
  if (value === undefined || value === '') throw new ValidationError('path', 'is required: the template file name');
  if (value.includes('/') || value === '.' || value === '..' || value.includes('\0') || Buffer.byteLength(value) > 255) {
    throw new ValidationError('path', `${JSON.stringify(value)} is not a valid template file name (a plain file name, without "/")`);
  }
  return value;
}
