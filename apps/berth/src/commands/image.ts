// berth image import|list|info|show|edit|delete|export, berth image alias create|list|rename|delete
import { Option, type Command } from 'commander';
import type { Image, ImageAlias, ImagePut } from '../api.js';
import { formatOption, type Cli, type FormatOptions } from '../cli.js';
import { editUntilAccepted, readStdin } from '../editor.js';
import { UsageError } from '../errors.js';
import { formatInfoDate, formatListDate, formatSize, OUTPUT_FORMATS, renderDocument, renderList, renderYaml, type Column, type OutputFormat } from '../format.js';
import { ALIASES, aliasPath, exportImage, exportTarget, IMAGES, imagePath, importImage, resolveImage, type ImportOptions } from '../images-client.js';
import { collect, collectKeyValue } from '../options.js';
import { parseYamlMapping, readBoolean, readStringList, readStringMap } from '../yaml-input.js';
import { registerImageBuildCommand } from './image-build.js';

// ---- Rendering ----

/** lxc shows the shortest alias, and how many others there are. */
export function aliasCell(image: Image): string {
  const names = (image.aliases ?? []).map((alias) => alias.name).filter((name) => name !== '');
  if (names.length === 0) return '';
  const shortest = names.reduce((a, b) => (b.length < a.length ? b : a));
  return names.length > 1 ? `${shortest} (${names.length - 1} more)` : shortest;
}

export const IMAGE_COLUMNS: readonly Column<Image>[] = [
  { header: 'ALIAS', value: aliasCell },
  { header: 'FINGERPRINT', value: (i) => i.fingerprint.slice(0, 12) },
  { header: 'PUBLIC', value: (i) => (i.public ? 'yes' : 'no') },
  { header: 'DESCRIPTION', value: (i) => i.properties?.description ?? '' },
  { header: 'ARCHITECTURE', value: (i) => i.architecture },
  { header: 'TYPE', value: (i) => (i.type || 'container').toUpperCase() },
  { header: 'SIZE', value: (i) => formatSize(i.size) },
  { header: 'UPLOAD DATE', value: (i) => formatListDate(i.uploaded_at) },
];

export const ALIAS_COLUMNS: readonly Column<ImageAlias>[] = [
  { header: 'ALIAS', value: (a) => a.name },
  { header: 'FINGERPRINT', value: (a) => a.target.slice(0, 12) },
  { header: 'TYPE', value: (a) => (a.type || 'container').toUpperCase() },
  { header: 'DESCRIPTION', value: (a) => a.description },
];

/**
 * `image list` filters as lxc reads them: `key=value` matches a property exactly, anything else
 * a part of an alias or of the fingerprint. Every filter must match.
 */
export function imageMatches(image: Image, filters: readonly string[]): boolean {
  return filters.every((filter) => {
    const separator = filter.indexOf('=');
    if (separator > 0) return image.properties?.[filter.slice(0, separator)] === filter.slice(separator + 1);
    return image.fingerprint.includes(filter) || (image.aliases ?? []).some((alias) => alias.name.includes(filter));
  });
}

/** `image alias list` filters: a part of the alias name, or a prefix of its target. */
export function aliasMatches(alias: ImageAlias, filters: readonly string[]): boolean {
  return filters.every((filter) => alias.name.includes(filter) || alias.target.startsWith(filter));
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortImages(images: readonly Image[]): Image[] {
  return [...images].sort((a, b) => byName(aliasCell(a), aliasCell(b)) || byName(a.fingerprint, b.fingerprint));
}

/** `image info` as lxc prints it. */
export function renderImageInfo(image: Image): string {
  const indent = (lines: string[]) => lines.map((line) => `    ${line}`);
  const properties = Object.entries(image.properties ?? {}).sort(([a], [b]) => byName(a, b));
  const aliases = image.aliases ?? [];
  const profiles = image.profiles ?? [];
  return [
    `Fingerprint: ${image.fingerprint}`,
    `Size: ${formatSize(image.size)}`,
    `Architecture: ${image.architecture}`,
    `Type: ${image.type || 'container'}`,
    `Public: ${image.public ? 'yes' : 'no'}`,
    'Timestamps:',
    ...indent([
      `Created: ${formatInfoDate(image.created_at)}`,
      `Uploaded: ${formatInfoDate(image.uploaded_at)}`,
      `Expires: ${formatInfoDate(image.expires_at)}`,
      `Last used: ${formatInfoDate(image.last_used_at)}`,
    ]),
    'Properties:',
    ...indent(properties.map(([key, value]) => `${key}: ${value}`)),
    'Aliases:',
    ...indent(aliases.map((alias) => `- ${alias.name}${alias.description ? ` (${alias.description})` : ''}`)),
    `Cached: ${image.cached ? 'yes' : 'no'}`,
    `Auto update: ${image.auto_update ? 'enabled' : 'disabled'}`,
    'Profiles:',
    ...indent(profiles.map((profile) => `- ${profile}`)),
  ].join('\n');
}

// ---- Editing ----

/** What `image edit` opens: the writable part of the image, as lxc shows it. */
export function imagePutDocument(image: Image): ImagePut {
  return {
    public: image.public,
    auto_update: image.auto_update,
    properties: Object.fromEntries(Object.entries(image.properties ?? {}).sort(([a], [b]) => byName(a, b))),
    expires_at: image.expires_at,
    profiles: image.profiles ?? [],
  };
}

export const IMAGE_EDIT_HEADER = [
  '### This is a YAML representation of the image properties.',
  '### Any line starting with a # is ignored.',
  '###',
  '### public, auto_update, properties, expires_at and profiles can be changed; the other',
  '### fields of "berth image show" may stay but are not sent.',
].join('\n');

const IMAGE_WRITABLE = new Set(['public', 'auto_update', 'properties', 'expires_at', 'profiles']);
const IMAGE_READ_ONLY = new Set([
  'fingerprint', 'filename', 'size', 'architecture', 'type', 'cached', 'aliases',
  'created_at', 'uploaded_at', 'last_used_at', 'update_source',
]);

/** Read an edited image: the body of `PUT /1.0/images/{fingerprint}`. */
export function parseImageYaml(text: string): ImagePut {
  const document = parseYamlMapping(text, 'image', 'public, auto_update, properties, expires_at and profiles');
  for (const field of Object.keys(document)) {
    if (!IMAGE_WRITABLE.has(field) && !IMAGE_READ_ONLY.has(field)) {
      throw new UsageError(`invalid image: unknown field "${field}"`);
    }
  }
  const put: ImagePut = {
    public: readBoolean(document.public, 'image', 'public'),
    auto_update: readBoolean(document.auto_update, 'image', 'auto_update'),
    properties: readStringMap(document.properties, 'image', 'properties'),
    profiles: readStringList(document.profiles, 'image', 'profiles'),
  };
  const expires = document.expires_at;
  if (expires instanceof Date) put.expires_at = expires.toISOString();
  else if (typeof expires === 'string') put.expires_at = expires;
  else if (expires !== undefined && expires !== null) {
    throw new UsageError('invalid image: expires_at must be a date (RFC 3339)');
  }
  return put;
}

// ---- Commands ----

export function registerImageCommands(program: Command, cli: Cli): void {
  const image = program.command('image').description('Manage images');
  registerImageBuildCommand(image, cli);

  image
    .command('import')
    .description('Import an image: a unified tarball, or a metadata tarball and a rootfs tarball')
    .argument('<tarball>', 'the image, or its metadata tarball')
    .argument('[rootfs-tarball]', 'the rootfs tarball of a split image')
    .option('--alias <alias>', 'an alias for the image (repeatable)', collect, [])
    .option('--public', 'make the image available to untrusted clients', false)
    .option('--property <key=value>', 'set an image property (repeatable)', collectKeyValue, {})
    .action(async (tarball: string, rootfs: string | undefined, options: ImportOptions) => {
      const fingerprint = await importImage(cli, rootfs === undefined ? [tarball] : [tarball, rootfs], options);
      cli.print(`Image imported with fingerprint: ${fingerprint}`);
    });

  image
    .command('list')
    .alias('ls')
    .description('List images; filters are key=value (a property) or part of an alias or fingerprint')
    .argument('[filters...]')
    .addOption(formatOption('table'))
    .action(async (filters: string[], { format }: FormatOptions) => {
      const images = await cli.client.get<Image[]>(`${IMAGES}?recursion=1`);
      cli.print(renderList(sortImages(images.filter((i) => imageMatches(i, filters))), IMAGE_COLUMNS, format));
    });

  image
    .command('info')
    .description('Show an image (by alias, fingerprint or fingerprint prefix)')
    .argument('<image>')
    .addOption(new Option('-f, --format <format>', 'output format (default: a summary)').choices(OUTPUT_FORMATS))
    .action(async (reference: string, { format }: { format?: OutputFormat }) => {
      const found = await resolveImage(cli, reference);
      cli.print(format ? renderDocument(found, format) : renderImageInfo(found));
    });

  image
    .command('show')
    .description('Show an image as YAML (by alias, fingerprint or fingerprint prefix)')
    .argument('<image>')
    .addOption(formatOption('yaml'))
    .action(async (reference: string, { format }: FormatOptions) => {
      cli.print(renderDocument(await resolveImage(cli, reference), format));
    });

  image
    .command('edit')
    .description('Edit an image\'s properties as YAML in $EDITOR, or replace them with YAML from standard input')
    .argument('<image>')
    .action(async (reference: string) => {
      const found = await resolveImage(cli, reference);
      const put = async (body: ImagePut) => {
        await cli.client.send('PUT', imagePath(found.fingerprint), body);
      };
      if (!cli.environment.interactive) {
        await put(parseImageYaml(await readStdin()));
        return;
      }
      const text = `${IMAGE_EDIT_HEADER}\n${renderYaml(imagePutDocument(found))}\n`;
      await editUntilAccepted(cli.environment.editor, text, `${found.fingerprint.slice(0, 12)}.yaml`, (edited) =>
        put(parseImageYaml(edited)),
      );
    });

  image
    .command('delete')
    .alias('rm')
    .description('Delete images')
    .argument('<images...>')
    .action(async (references: string[]) => {
      for (const reference of references) {
        const found = await resolveImage(cli, reference);
        await cli.client.send('DELETE', imagePath(found.fingerprint));
      }
    });

  image
    .command('export')
    .description('Export an image\'s files into a directory (default: the current one) or to a file')
    .argument('<image>')
    .argument('[target]', 'a directory, or the file to write (a split image\'s rootfs goes to <target>.root)')
    .action(async (reference: string, target: string | undefined) => {
      const found = await resolveImage(cli, reference);
      const paths = await exportImage(cli, found, await exportTarget(target));
      cli.print(`Image exported to ${paths.join(' and ')}`);
    });

  registerAliasCommands(image, cli);
}

function registerAliasCommands(image: Command, cli: Cli): void {
  const alias = image.command('alias').description('Manage image aliases');

  alias
    .command('create')
    .description('Create an alias for an image (by fingerprint or fingerprint prefix)')
    .argument('<alias>')
    .argument('<fingerprint>')
    .option('-d, --description <text>', 'description of the alias', '')
    .action(async (name: string, target: string, { description }: { description: string }) => {
      await cli.client.send('POST', ALIASES, { name, target, description });
    });

  alias
    .command('list')
    .alias('ls')
    .description('List aliases; filters are part of an alias or a fingerprint prefix')
    .argument('[filters...]')
    .addOption(formatOption('table'))
    .action(async (filters: string[], { format }: FormatOptions) => {
      const aliases = await cli.client.get<ImageAlias[]>(`${ALIASES}?recursion=1`);
      const shown = aliases.filter((a) => aliasMatches(a, filters)).sort((a, b) => byName(a.name, b.name));
      cli.print(renderList(shown, ALIAS_COLUMNS, format));
    });

  alias
    .command('rename')
    .alias('mv')
    .description('Rename an alias')
    .argument('<alias>')
    .argument('<new-name>')
    .action(async (name: string, newName: string) => {
      await cli.client.send('POST', aliasPath(name), { name: newName });
    });

  alias
    .command('delete')
    .alias('rm')
    .description('Delete an alias')
    .argument('<alias>')
    .action(async (name: string) => {
      await cli.client.send('DELETE', aliasPath(name));
    });
}
