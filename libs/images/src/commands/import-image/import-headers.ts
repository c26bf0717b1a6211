import type { IncomingHttpHeaders } from 'node:http';
import { ValidationError } from '#core';
import { validateAliasName, validateProperties } from '../../domain/image-record.js';

export interface ImportOptions {
  expectedFingerprint?: string;
  public: boolean;
  filename: string;
  properties: Record<string, string>;
  aliases: Array<{ name: string; description: string }>;
}

const one = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** LXD's upload headers: X-LXD-fingerprint, -public, -filename, -properties (url-encoded), -aliases. */
export function parseImportHeaders(headers: IncomingHttpHeaders): ImportOptions {
  const fingerprint = one(headers, 'x-lxd-fingerprint');
  if (fingerprint !== undefined && !/^[0-9a-f]{64}$/.test(fingerprint)) throw new ValidationError('X-LXD-fingerprint', 'must be a sha256 in lowercase hex');
  const pub = one(headers, 'x-lxd-public');
  if (pub !== undefined && !/^(true|false|1|0)$/.test(pub)) throw new ValidationError('X-LXD-public', 'must be true or false');
  const filename = one(headers, 'x-lxd-filename') ?? '';
  if (/[\u0000-\u001f/\\]/.test(filename) || filename.length > 255) throw new ValidationError('X-LXD-filename', 'must be a plain file name');
  const properties = validateProperties(Object.fromEntries(new URLSearchParams(one(headers, 'x-lxd-properties') ?? '')), 'X-LXD-properties');
  const aliasHeader = one(headers, 'x-lxd-aliases');
  const aliases = aliasHeader ? aliasHeader.split(',').map((a, i) => validateAliasName(`X-LXD-aliases[${i}]`, decodeURIComponent(a.trim()))) : [];
  if (new Set(aliases).size !== aliases.length) throw new ValidationError('X-LXD-aliases', 'lists an alias twice');
  return { expectedFingerprint: fingerprint, public: pub === 'true' || pub === '1', filename, properties, aliases: aliases.map((name) => ({ name, description: '' })) };
}
