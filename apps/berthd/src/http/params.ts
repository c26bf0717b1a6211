import { ValidationError } from '#core';

export function recursion(value: string | undefined): 0 | 1;
export function recursion(value: string | undefined, max: 2): 0 | 1 | 2;
export function recursion(value: string | undefined, max: 1 | 2 = 1): 0 | 1 | 2 {
  if (value === undefined || value === '' || value === '0') return 0;
  if (value === '1') return 1;
  if (max === 2 && value === '2') return 2;
  throw new ValidationError('recursion', max === 2 ? 'must be 0, 1 or 2' : 'must be 0 or 1');
}

/**
 * A query parameter's text. Express reads a repeated one (`?a=1&a=2`) as a list and `?a[b]=1` as
 * an object: neither is text, so both read as absent.
 */
export function queryText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function body(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** Accepts only the listed fields, so a typo never passes silently. */
export function fields(value: Record<string, unknown>, allowed: readonly string[]): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ValidationError(key, 'unknown field');
  }
  return value;
}

/** One request header's value (the first, when sent twice); `name` in any case. */
export function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
