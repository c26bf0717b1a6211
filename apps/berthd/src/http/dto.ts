import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError as ClassValidationError } from 'class-validator';
import { ValidationError } from '#core';
import { body } from './params.js';

const IGNORED = new WeakMap<object, readonly string[]>();

/**
 * Fields LXD clients send that Berth does not read (a GET's read-only fields sent back with a
 * PUT, an instance create's `architecture`): accepted whatever their value, and dropped before the
 * DTO sees the body.
 */
export function Ignores(...fields: string[]): ClassDecorator {
  return (target) => void IGNORED.set(target, fields);
}

/**
 * A request body checked against its DTO class (class-validator decorators): an object with
 * only the DTO's fields, each valid, or a ValidationError naming the first field at fault (LXD's
 * error envelope, 400). Unknown fields are refused, so a typo never passes silently; the fields
 * the class `@Ignores` are dropped.
 */
export function parseBody<T extends object>(dto: ClassConstructor<T>, raw: unknown): T {
  const ignored = IGNORED.get(dto) ?? [];
  const read = Object.fromEntries(Object.entries(body(raw)).filter(([key]) => !ignored.includes(key)));
  const instance = plainToInstance(dto, read, { enableImplicitConversion: false });
  const [first] = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true });
  if (first) throw fieldError(first);
  return instance;
}

function fieldError(error: ClassValidationError, prefix = ''): ValidationError {
  const field = prefix + error.property;
  const child = error.children?.[0];
  if (child) return fieldError(child, `${field}.`);
  const [constraint, message] = Object.entries(error.constraints ?? {})[0] ?? [];
  if (constraint === 'whitelistValidation') return new ValidationError(field, 'unknown field');
  const at = error.contexts?.[constraint ?? '']?.at;
  return new ValidationError(typeof at === 'function' ? field + at(error.value) : field, message ?? 'is not valid');
}
