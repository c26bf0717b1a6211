import { isAbsolute } from 'node:path';
import { ValidationError } from '#core';

/** The formats a caller may name (the sources tell the rest by their bytes). */
export const IMPORT_FORMATS = ['tarball', 'directory', 'raw', 'qcow2'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
const KINDS: readonly string[] = IMPORT_FORMATS;

/** What to import: a path on the daemon's host, its format when the caller knows it, and whether only to report. */
export interface ImportSource {
  readonly path: string;
  readonly kind?: ImportFormat;
  readonly dryRun: boolean;
}

/**
 * Reads `source` of an InstancesPost that imports a VM: `{"type": "migration", "mode": "import",
 * "path": "/srv/vm.tar.gz", "format": "tarball", "dry_run": false}`. LXD's own migration modes
 * (pull, push, relay: instance moves between LXD servers) are refused by name.
 */
export function parseImportSource(value: unknown): ImportSource {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('source', 'must be an object');
  const s = value as Record<string, unknown>;
  if (s.type !== 'migration') throw new ValidationError('source.type', 'a VM import is a "migration" source');
  if (s.mode !== 'import') throw new ValidationError('source.mode', `"${String(s.mode)}" is not supported by this server (supported: import)`);
  if (typeof s.path !== 'string' || s.path === '') throw new ValidationError('source.path', 'is required: the tarball, directory or disk image to import, on the server');
  if (!isAbsolute(s.path) || s.path.includes('\u0000')) throw new ValidationError('source.path', 'must be an absolute path on the server');
  if (s.format !== undefined && !KINDS.includes(s.format as ImportFormat)) {
    throw new ValidationError('source.format', `"${String(s.format)}" is not one of ${KINDS.join(', ')}`);
  }
  if (s.dry_run !== undefined && typeof s.dry_run !== 'boolean') throw new ValidationError('source.dry_run', 'must be true or false');
  for (const key of Object.keys(s)) {
    if (!['type', 'mode', 'path', 'format', 'dry_run'].includes(key)) throw new ValidationError(`source.${key}`, 'is not a field of an import source');
  }
  return { path: s.path, kind: s.format as ImportFormat | undefined, dryRun: s.dry_run === true };
}

/** True for an InstancesPost body whose source is a VM import (routed to the migrate context). */
export function isImportSource(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).type === 'migration';
}
