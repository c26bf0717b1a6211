import { registerDecorator, type ValidationOptions } from 'class-validator';

/** An object whose values are all strings (LXD's map[string]string), no NUL anywhere. */
export function IsStringMap(options: ValidationOptions = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: 'must be an object of strings', ...options },
      validator: {
        validate: (value: unknown) =>
          value === null ||
          (typeof value === 'object' && !Array.isArray(value) && Object.entries(value).every(([k, v]) => typeof v === 'string' && !k.includes('\u0000') && !v.includes('\u0000'))),
      },
    });
}
