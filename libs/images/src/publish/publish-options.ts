import { ValidationError } from '#core';
import type { ImportOptions } from '../domain/image-upload.js';
import { validateAliasName, validateProperties } from '../domain/image-record.js';

/** The fields of LXD's api.ImagesPost that publishing takes: aliases, properties, public, filename. */
export function parsePublishOptions(body: Readonly<Record<string, unknown>>): ImportOptions {
  const aliases = body.aliases ?? [];
  if (!Array.isArray(aliases)) throw new ValidationError('aliases', 'must be a list of {"name", "description"}');
  const parsed = aliases.map((alias: unknown, i) => {
    if (typeof alias !== 'object' || alias === null || Array.isArray(alias)) throw new ValidationError(`aliases[${i}]`, 'must be an object with a name');
    const { name, description } = alias as Record<string, unknown>;
    if (description !== undefined && typeof description !== 'string') throw new ValidationError(`aliases[${i}].description`, 'must be a string');
    return { name: validateAliasName(`aliases[${i}].name`, name), description: description ?? '' };
  });
  const names = parsed.map((a) => a.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new ValidationError('aliases', `lists "${twice}" twice`);
  if (body.public !== undefined && typeof body.public !== 'boolean') throw new ValidationError('public', 'must be true or false');
  const filename = body.filename ?? '';
  if (typeof filename !== 'string' || /[\u0000-\u001f/\\]/.test(filename) || filename.length > 255) throw new ValidationError('filename', 'must be a plain file name');
  return { public: body.public === true, filename, properties: validateProperties(body.properties), aliases: parsed };
}
