import { registerDecorator, type ValidationOptions } from 'class-validator';
import { DEVICE_TYPE_NAMES } from '#core';

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

/** Where a value's shape is wrong: the part below the field (`["limits.cpu"]`, `[0]`, or '' for the whole) and why. */
export interface ShapeFault {
  readonly at: string;
  readonly reason: string;
}

/**
 * A shape check that names the part at fault, so the refusal reads as the aggregate's own would
 * (`config["limits.cpu"]: must be a string`): parseBody appends `context.at(value)` to the field.
 */
function shapeCheck(name: string, fault: (value: unknown) => ShapeFault | undefined): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: ({ value }) => fault(value)?.reason ?? '', context: { at: (value: unknown) => fault(value)?.at ?? '' } },
      validator: { validate: (value: unknown) => fault(value) === undefined },
    });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first entry whose value is not a string, as `["key"]`. */
const nonString = (map: Record<string, unknown>, at = ''): ShapeFault | undefined => {
  const key = Object.keys(map).find((k) => typeof map[k] !== 'string');
  return key === undefined ? undefined : { at: `${at}["${key}"]`, reason: 'must be a string' };
};

/** A config map (instance, profile or server): an object of string values. Its keys are the aggregate's. */
export const IsConfigMap = () => shapeCheck('isConfigMap', (value) => (isObject(value) ? nonString(value) : { at: '', reason: 'must be an object of string values' }));

/** A devices map: an object of devices, each an object of string values. Their types and keys are the aggregate's. */
export const IsDeviceMap = () =>
  shapeCheck('isDeviceMap', (value) => {
    if (!isObject(value)) return { at: '', reason: 'must be an object of devices' };
    for (const [name, device] of Object.entries(value)) {
      const at = `["${name}"]`;
      if (!isObject(device)) return { at, reason: 'must be an object' };
      if (device.type !== undefined && typeof device.type !== 'string') return { at: `${at}.type`, reason: `must be one of ${DEVICE_TYPE_NAMES.join(', ')}` };
      const fault = nonString(device, at);
      if (fault) return fault;
    }
    return undefined;
  });

/** A list of names (an instance's profiles): each a string. Which names are valid is the aggregate's. */
export const IsNameList = (reason: string) =>
  shapeCheck('isNameList', (value) => {
    if (!Array.isArray(value)) return { at: '', reason };
    const index = value.findIndex((v) => typeof v !== 'string');
    return index === -1 ? undefined : { at: `[${index}]`, reason: 'must be a string' };
  });
