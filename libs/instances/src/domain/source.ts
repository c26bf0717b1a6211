import { ValidationError } from '#core';

/** Where a new instance's root filesystem comes from. */
export type InstanceSource = { type: 'none' } | { type: 'image'; alias: string } | { type: 'image'; fingerprint: string };

export function parseSource(value: unknown): InstanceSource {
  if (value === undefined || value === null) return { type: 'none' };
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('source', 'must be an object');
  const s = value as Record<string, unknown>;
  const type = s.type ?? 'none';
  if (type === 'none') return { type: 'none' };
  if (type !== 'image') throw new ValidationError('source.type', `"${String(type)}" is not supported by this server (supported: image, none)`);
  if (s.server !== undefined && s.server !== '') throw new ValidationError('source.server', 'remote image servers are not supported; import the image first');
  if (typeof s.alias === 'string' && s.alias !== '') return { type: 'image', alias: s.alias };
  if (typeof s.fingerprint === 'string' && s.fingerprint !== '') return { type: 'image', fingerprint: s.fingerprint };
  throw new ValidationError('source', 'an image source needs an alias or a fingerprint');
}
