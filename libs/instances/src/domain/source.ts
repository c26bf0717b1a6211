import { ValidationError } from '#core';

export type InstanceSource = { type: 'none' };

/** The `source` of a create request. Image sources arrive with the images context. */
export function parseSource(value: unknown): InstanceSource {
  if (value === undefined || value === null) return { type: 'none' };
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('source', 'must be an object');
  const type = (value as Record<string, unknown>).type ?? 'none';
  if (type !== 'none') throw new ValidationError('source.type', `"${String(type)}" is not supported by this server (supported: none)`);
  return { type: 'none' };
}
