import { isAbsolute } from 'node:path';
import { ValidationError } from '#core';
import { parseSshTarget, type SshSource } from '../sources/index.js';

/** The formats a caller may name (the sources tell the rest by their bytes). */
export const IMPORT_FORMATS = ['tarball', 'directory', 'raw', 'qcow2'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
const KINDS: readonly string[] = IMPORT_FORMATS;
const FIELDS = ['type', 'mode', 'path', 'format', 'dry_run', 'ssh', 'ssh_port', 'ssh_identity'];

/**
 * What to import: a path on the daemon's host (with its format when the caller knows it), or a
 * running machine over SSH (`path` is then the tree to copy on it, `/` by default); and whether
 * only to report.
 */
export type ImportSource =
  | { readonly kind?: ImportFormat; readonly path: string; readonly ssh?: undefined; readonly dryRun: boolean }
  | { readonly kind: 'ssh'; readonly path: string; readonly ssh: SshSource; readonly dryRun: boolean };

const absolute = (field: string, value: unknown, what: string): string => {
  if (typeof value !== 'string' || value === '') throw new ValidationError(field, `is required: ${what}`);
  if (!isAbsolute(value) || value.includes('\u0000')) throw new ValidationError(field, 'must be an absolute path');
  return value;
};

/**
 * Reads `source` of an InstancesPost that imports a VM: `{"type": "migration", "mode": "import",
 * "path": "/srv/vm.tar.gz", "format": "tarball", "dry_run": false}`, or with `"ssh": "root@vm1"`
 * (and `ssh_port`, `ssh_identity`) for a running machine. LXD's own migration modes (pull, push,
 * relay: an instance moving between LXD servers) are refused by name.
 */
export function parseImportSource(value: unknown): ImportSource {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('source', 'must be an object');
  const s = value as Record<string, unknown>;
  if (s.type !== 'migration') throw new ValidationError('source.type', 'a VM import is a "migration" source');
  if (s.mode !== 'import') throw new ValidationError('source.mode', `"${String(s.mode)}" is not supported by this server (supported: import)`);
  for (const key of Object.keys(s)) {
    if (!FIELDS.includes(key)) throw new ValidationError(`source.${key}`, 'is not a field of an import source');
  }
  if (s.dry_run !== undefined && typeof s.dry_run !== 'boolean') throw new ValidationError('source.dry_run', 'must be true or false');
  const dryRun = s.dry_run === true;
  if (s.ssh !== undefined) {
    if (typeof s.ssh !== 'string') throw new ValidationError('source.ssh', 'must be user@host');
    if (s.format !== undefined) throw new ValidationError('source.format', 'does not apply to an SSH source');
    const { user, host } = parseSshTarget('source.ssh', s.ssh);
    const port = s.ssh_port ?? 22;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError('source.ssh_port', 'must be a port number');
    const identity = s.ssh_identity === undefined ? undefined : absolute('source.ssh_identity', s.ssh_identity, 'a private key file on the server');
    const path = s.path === undefined ? '/' : absolute('source.path', s.path, 'the tree to copy on the machine');
    return { kind: 'ssh', path, ssh: { user, host, port, path, identity }, dryRun };
  }
  for (const key of ['ssh_port', 'ssh_identity']) if (s[key] !== undefined) throw new ValidationError(`source.${key}`, 'needs source.ssh');
  const path = absolute('source.path', s.path, 'the tarball, directory or disk image to import, on the server');
  if (s.format !== undefined && !KINDS.includes(s.format as string)) {
    throw new ValidationError('source.format', `"${String(s.format)}" is not one of ${KINDS.join(', ')}`);
  }
  return { path, kind: s.format as ImportFormat | undefined, dryRun };
}

/** True for an InstancesPost body whose source is a VM import (routed to the migrate context). */
export function isImportSource(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).type === 'migration';
}
