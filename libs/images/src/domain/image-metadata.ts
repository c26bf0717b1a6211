import { parseDocument } from 'yaml';
import { InvalidImageMetadataError } from './image.errors.js';

/** When LXD renders a template into the rootfs. */
export type TemplateTrigger = 'create' | 'copy' | 'start' | 'rename';

export interface ImageTemplate {
  /** Absolute path inside the container, e.g. /etc/hostname. */
  readonly path: string;
  /** File name under templates/ in the image, e.g. hostname.tpl. */
  readonly template: string;
  readonly when: readonly TemplateTrigger[];
  readonly createOnly: boolean;
  readonly properties: Readonly<Record<string, string>>;
}

/** metadata.yaml of an LXD image, validated. */
export interface ImageMetadata {
  /** Kernel architecture name (x86_64, aarch64, ...); LXD's aliases (amd64, arm64, ...) are mapped. */
  readonly architecture: string;
  /** Unix seconds. */
  readonly creationDate: number;
  /** Unix seconds; absent when the image does not expire. */
  readonly expiryDate?: number;
  /** os, release, variant, description, ... */
  readonly properties: Readonly<Record<string, string>>;
  readonly templates: readonly ImageTemplate[];
}

/* LXD's shared/osarch names and the aliases images are published with. */
const ARCHITECTURE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  i686: ['i386', 'i586', '386', 'x86'],
  x86_64: ['amd64', 'x64'],
  armv6l: ['armel'],
  armv7l: ['armhf', 'armhfp', 'armv7a', 'armv7hl', 'armv7hnl', 'armv7nl', 'armv7', 'arm'],
  aarch64: ['arm64', 'arm64-v8a'],
  ppc: ['powerpc'],
  ppc64: ['powerpc64', 'ppc64'],
  ppc64le: ['ppc64el'],
  s390x: [],
  mips: ['mipsel', 'mipsle'],
  mips64: ['mips64el', 'mips64le'],
  riscv32: [],
  riscv64: [],
  loongarch64: ['loong64'],
};
const CANONICAL_ARCHITECTURE = new Map<string, string>(
  Object.entries(ARCHITECTURE_ALIASES).flatMap(([name, aliases]) => [[name, name], ...aliases.map((a) => [a, name] as [string, string])]),
);

const TEMPLATE_TRIGGERS: ReadonlySet<string> = new Set<TemplateTrigger>(['create', 'copy', 'start', 'rename']);

/**
 * Parses metadata.yaml. Every scalar is read as text (YAML's failsafe schema) and typed here, so
 * `creation_date: 0x10`, `yes` or a date literal cannot slip through as something else.
 * Unknown top-level keys are ignored, as LXD does.
 */
export function parseImageMetadata(text: string): ImageMetadata {
  const document = parseDocument(text, { schema: 'failsafe', uniqueKeys: true });
  if (document.errors.length > 0) throw new InvalidImageMetadataError('metadata.yaml', document.errors[0].message.split('\n')[0]);
  let root: unknown;
  try {
    // The cap stops "billion laughs" documents that expand aliases exponentially.
    root = document.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (error) {
    throw new InvalidImageMetadataError('metadata.yaml', error instanceof Error ? error.message : String(error));
  }
  const fields = asMap(root, '(document)');

  const architecture = requiredString(fields, 'architecture');
  const canonical = CANONICAL_ARCHITECTURE.get(architecture);
  if (canonical === undefined) throw new InvalidImageMetadataError('architecture', `unknown architecture ${JSON.stringify(architecture)}`);

  const expiry = optionalString(fields, 'expiry_date');
  return {
    architecture: canonical,
    creationDate: unixSeconds(requiredString(fields, 'creation_date'), 'creation_date'),
    ...(expiry === undefined || expiry === '0' ? {} : { expiryDate: unixSeconds(expiry, 'expiry_date') }),
    properties: stringMap(fields.get('properties'), 'properties'),
    templates: parseImageTemplates(fields.get('templates')),
  };
}

function asMap(value: unknown, field: string): Map<string, unknown> {
  if (!(value instanceof Map)) throw new InvalidImageMetadataError(field, 'must be a mapping');
  return value as Map<string, unknown>;
}

function requiredString(fields: Map<string, unknown>, field: string): string {
  const value = optionalString(fields, field);
  if (value === undefined) throw new InvalidImageMetadataError(field, 'is required');
  return value;
}

/* An empty scalar (`key:`) is YAML's null: treated as absent. */
function optionalString(fields: Map<string, unknown>, field: string): string | undefined {
  const value = fields.get(field);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidImageMetadataError(field, 'must be a scalar');
  return value;
}

function unixSeconds(text: string, field: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidImageMetadataError(field, `must be a Unix time in seconds, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === '') return {};
  const entries: [string, string][] = [];
  for (const [key, item] of asMap(value, field)) {
    if (typeof key !== 'string' || typeof item !== 'string') throw new InvalidImageMetadataError(`${field}.${String(key)}`, 'must be a string');
    entries.push([key, item]);
  }
  // fromEntries defines own properties: a "__proto__" key stays data, never a prototype.
  return Object.fromEntries(entries);
}

/** The `templates:` section of metadata.yaml (already parsed, scalars as text), validated. */
export function parseImageTemplates(value: unknown): ImageTemplate[] {
  if (value === undefined || value === '') return [];
  const result: ImageTemplate[] = [];
  for (const [path, spec] of asMap(value, 'templates')) {
    const field = `templates[${JSON.stringify(path)}]`;
    if (typeof path !== 'string' || !isCleanAbsolutePath(path)) throw new InvalidImageMetadataError(field, 'must be a clean absolute path');
    const entry = asMap(spec, field);
    const template = requiredString(entry, 'template');
    if (!isCleanRelativePath(template)) throw new InvalidImageMetadataError(`${field}.template`, 'must be a clean relative path under templates/');
    // No trigger (`when: []`, `when:` or none at all) is accepted as LXD does: the template is never rendered.
    const when = entry.get('when') ?? [];
    if (!Array.isArray(when) && when !== '') throw new InvalidImageMetadataError(`${field}.when`, 'must be a list of create, copy, start or rename');
    if (Array.isArray(when) && when.some((t) => typeof t !== 'string' || !TEMPLATE_TRIGGERS.has(t))) {
      throw new InvalidImageMetadataError(`${field}.when`, 'must be a list of create, copy, start or rename');
    }
    const createOnly = optionalString(entry, 'create_only') ?? 'false';
    if (createOnly !== 'true' && createOnly !== 'false') throw new InvalidImageMetadataError(`${field}.create_only`, 'must be true or false');
    result.push({
      path,
      template,
      when: Array.isArray(when) ? (when as TemplateTrigger[]) : [],
      createOnly: createOnly === 'true',
      properties: stringMap(entry.get('properties'), `${field}.properties`),
    });
  }
  return result;
}

function isCleanRelativePath(path: string): boolean {
  return path.length > 0 && !path.includes('\0') && path.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

function isCleanAbsolutePath(path: string): boolean {
  return path.startsWith('/') && isCleanRelativePath(path.slice(1));
}
