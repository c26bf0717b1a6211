import { ValidationError } from '../errors/domain-error.js';

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * LXD's naming rule for instances and profiles: 1-63 letters, digits and dashes, not starting or
 * ending with a dash, not made only of digits (it must not look like an address).
 */
export function validateName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > 63) throw new ValidationError(field, 'must be at most 63 characters');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ValidationError(field, 'must not contain control characters');
  if (value.includes('/')) throw new ValidationError(field, 'must not contain "/"');
  if (value.includes(' ')) throw new ValidationError(field, 'must not contain spaces');
  if (value.startsWith('-') || value.endsWith('-')) throw new ValidationError(field, 'must not start or end with "-"');
  if (/^\d+$/.test(value)) throw new ValidationError(field, 'must not be only digits');
  if (!NAME.test(value)) throw new ValidationError(field, 'may only contain letters, digits and "-"');
  return value;
}
