import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError as ClassValidationError } from 'class-validator';
import { ValidationError } from '#core';
import { body } from './params.js';

/**
 * A request body checked against its DTO class (class-validator decorators): an object with
 * only the DTO's fields, each valid, or a ValidationError naming the first field at fault (LXD's
 * error envelope, 400). Unknown fields are refused, so a typo never passes silently.
 */
export function parseBody<T extends object>(dto: ClassConstructor<T>, raw: unknown): T {
  const instance = plainToInstance(dto, body(raw), { enableImplicitConversion: false });
  const [first] = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true });
  if (first) throw fieldError(first);
  return instance;
}

function fieldError(error: ClassValidationError, prefix = ''): ValidationError {
  const field = prefix + error.property;
  const child = error.children?.[0];
  if (child) return fieldError(child, `${field}.`);
  const constraints = error.constraints ?? {};
  if ('whitelistValidation' in constraints) return new ValidationError(field, 'unknown field');
  return new ValidationError(field, Object.values(constraints)[0] ?? 'is not valid');
}
