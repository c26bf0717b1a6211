import { ValidationError } from '#core';

/** LXD's api.ImageAlias as listed on an image. */
export interface ImageAliasRef {
  name: string;
  description: string;
}

/** LXD's api.Image. */
export interface ImageView {
  fingerprint: string;
  type: 'container';
  filename: string;
  size: number;
  architecture: string;
  public: boolean;
  auto_update: boolean;
  cached: boolean;
  properties: Record<string, string>;
  aliases: ImageAliasRef[];
  profiles: string[];
  created_at: string;
  expires_at: string;
  uploaded_at: string;
  last_used_at: string;
}

/** LXD's api.ImageAliasesEntry. */
export interface AliasView {
  name: string;
  description: string;
  target: string;
  type: 'container';
}

/**
 * Alias names as LXD allows them: `debian/12`, `web-base`, ... Not empty, no whitespace or
 * control characters, no `:` (it separates a remote from an alias on the command line).
 */
export function validateAliasName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > 255) throw new ValidationError(field, 'must be at most 255 characters');
  if (/[\s\u0000-\u001f\u007f]/.test(value)) throw new ValidationError(field, 'must not contain whitespace or control characters');
  if (value.includes(':')) throw new ValidationError(field, 'must not contain ":"');
  if (value.startsWith('/') || value.split('/').some((p) => p === '..' || p === '.' || p === '')) throw new ValidationError(field, 'must not have empty, "." or ".." components');
  return value;
}

/** A full fingerprint or a prefix of one: lowercase hex. */
export function validateFingerprintPrefix(field: string, value: string): string {
  if (!/^[0-9a-f]{1,64}$/.test(value)) throw new ValidationError(field, 'must be a sha256 fingerprint or a prefix of one (hex)');
  return value;
}

/** Image properties: string keys and values, without NUL or newlines. */
export function validateProperties(value: unknown, field = 'properties'): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, 'must be an object of string values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(k)) throw new ValidationError(`${field}["${k}"]`, 'is not a valid property name');
    if (typeof v !== 'string') throw new ValidationError(`${field}["${k}"]`, 'must be a string');
    if (/[\u0000\r\n]/.test(v)) throw new ValidationError(`${field}["${k}"]`, 'must not contain NUL or newlines');
    out[k] = v;
  }
  return out;
}
