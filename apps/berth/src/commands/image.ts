// berth image import|list|info|show|edit|delete|export, berth image alias create|list|rename|delete
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { pipeline as chain, Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ConfigMap, Image, ImageAlias, ImageImportResult, ImagePut } from '../api.js';
import { formatOption, segment, type Cli, type FormatOptions } from '../cli.js';
import { ApiError, type RequestHeaders } from '../client.js';
import { editUntilAccepted, readStdin } from '../editor.js';
import { UsageError } from '../errors.js';
import { OUTPUT_FORMATS, renderDocument, renderList, renderYaml, type Column, type OutputFormat } from '../format.js';
import { registerImageBuildCommand } from './image-build.js';

const IMAGES = '/1.0/images';
const ALIASES = '/1.0/images/aliases';
const imagePath = (fingerprint: string) => `${IMAGES}/${segment(fingerprint)}`;
const aliasPath = (name: string) => `${ALIASES}/${segment(name)}`;

/**
 * An image as lxc names one: an alias first, then a fingerprint or a unique prefix of one.
 * A name that is neither is reported as an image not found, not as a malformed fingerprint.
 */
export async function resolveImage(cli: Cli, reference: string): Promise<Image> {
  try {
    const alias = await cli.client.get<ImageAlias>(aliasPath(reference));
    return await cli.client.get<Image>(imagePath(alias.target));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  if (!/^[0-9a-f]+$/i.test(reference)) throw new ApiError(404, `Image not found: "${reference}"`);
  return cli.client.get<Image>(imagePath(reference.toLowerCase()));
}

// ---- Command-line values ----

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A repeatable `key=value` option (`--property`, `-c`). */
export function collectKeyValue(value: string, previous: ConfigMap): ConfigMap {
  const separator = value.indexOf('=');
  if (separator <= 0) throw new InvalidArgumentError('expected <key>=<value>');
  return { ...previous, [value.slice(0, separator)]: value.slice(separator + 1) };
}

export interface ImportOptions {
  alias: string[];
  public: boolean;
  property: ConfigMap;
}

/** LXD's upload headers; each alias is URL-encoded so that a comma in one cannot split it. */
export function importHeaders(filename: string, options: ImportOptions): RequestHeaders {
  const headers: RequestHeaders = {
    'X-LXD-filename': filename,
    'X-LXD-public': options.public ? 'true' : 'false',
  };
  const properties = new URLSearchParams(options.property).toString();
  if (properties !== '') headers['X-LXD-properties'] = properties;
  if (options.alias.length > 0) headers['X-LXD-aliases'] = options.alias.map(encodeURIComponent).join(',');
  return headers;
}

// ---- Rendering ----

/** A size as LXD prints it: bytes below 1 KiB, then IEC units with two decimals. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  let value = bytes;
  for (const unit of ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']) {
    value /= 1024;
    if (value < 1024) return `${value.toFixed(2)}${unit}`;
  }
  return `${(value / 1024).toFixed(2)}EiB`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** The server's zero times (the epoch, year 1) and missing times mean "never". */
function when(iso: string | null | undefined): Date | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) || date.getTime() <= 0 ? undefined : date;
}

/** `Nov 14, 2023 at 10:13pm (UTC)`, lxc's UPLOAD DATE. */
export function formatListDate(iso: string): string {
  const date = when(iso);
  if (!date) return '';
  const hours = date.getUTCHours();
  const half = hours < 12 ? 'am' : 'pm';
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()} at ${hours % 12 || 12}:${pad2(date.getUTCMinutes())}${half} (UTC)`;
}

/** `2023/11/14 22:13 UTC`, lxc's timestamps in `image info`. */
export function formatInfoDate(iso: string): string {
  const date = when(iso);
  if (!date) return 'never';
  return `${date.getUTCFullYear()}/${pad2(date.getUTCMonth() + 1)}/${pad2(date.getUTCDate())} ${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())} UTC`;
}

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

// YAML readers shared by `image edit` and `config edit`; `what` names the document in messages.

export function parseYamlMapping(text: string, what: string, expected: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`invalid YAML: ${(message.split('\n')[0] ?? message).replace(/:$/, '')}`);
  }
  if (!isMapping(document)) throw new UsageError(`invalid ${what}: expected a YAML mapping with ${expected}`);
  return document;
}

export function readBoolean(value: unknown, what: string, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new UsageError(`invalid ${what}: ${field} must be true or false`);
  return value;
}

export function readString(value: unknown, what: string, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new UsageError(`invalid ${what}: ${field} must be a string`);
  return value;
}

/** A mapping of strings; YAML scalars (`2`, `true`) become the strings the API stores. */
export function readStringMap(value: unknown, what: string, field: string): ConfigMap {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new UsageError(`invalid ${what}: ${field} must be a mapping`);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (typeof item === 'string') return [key, item];
      if (typeof item === 'number' || typeof item === 'boolean') return [key, String(item)];
      throw new UsageError(`invalid ${what}: ${field}.${key} must be a string`);
    }),
  );
}

export function readStringList(value: unknown, what: string, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new UsageError(`invalid ${what}: ${field} must be a list of names`);
  }
  return value;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

// ---- Transfers ----

/**
 * Counts the bytes of a transfer and, when standard error is a terminal, draws them as a bar
 * there. `tap()` gives a pass-through stream that counts what flows through it.
 */
export class TransferMeter {
  private readonly bar: SingleBar | undefined;
  private done = 0;

  constructor(label: string, total: number, terminal = process.stderr.isTTY === true) {
    if (!terminal) return;
    this.bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% {value}/{total}`,
      formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? formatSize(value) : String(value)),
      barsize: 30,
      clearOnComplete: true,
      hideCursor: true,
      stream: process.stderr,
    });
    this.bar.start(total, 0);
  }

  get bytes(): number {
    return this.done;
  }

  tap(hash?: Hash): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.done += chunk.length;
        hash?.update(chunk);
        this.bar?.update(Math.min(this.done, this.bar.getTotal()));
        callback(null, chunk);
      },
    });
  }

  stop(): void {
    this.bar?.stop();
  }
}

interface ImageFile {
  path: string;
  size: number;
}

async function imageFile(path: string): Promise<ImageFile> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${systemMessage(err)}`);
  }
  if (!info.isFile()) throw new UsageError(`cannot read ${path}: not a regular file`);
  return { path, size: info.size };
}

/** "ENOENT: no such file or directory, stat 'x'" → "no such file or directory". */
function systemMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

/** A multipart/form-data body of file parts, as `lxc image import meta rootfs` sends it. */
export interface MultipartBody {
  contentType: string;
  length: number;
  stream(): Readable;
}

export function multipartBody(parts: readonly { name: string; file: ImageFile }[], boundary = `berth-${randomBytes(12).toString('hex')}`): MultipartBody {
  const heads = parts.map(
    ({ name, file }) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${basename(file.path).replace(/["\r\n]/g, '_')}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const close = `--${boundary}--\r\n`;
  const length =
    heads.reduce((sum, head) => sum + Buffer.byteLength(head), 0) +
    parts.reduce((sum, { file }) => sum + file.size + 2, 0) +
    Buffer.byteLength(close);
  async function* chunks() {
    for (const [i, { file }] of parts.entries()) {
      yield Buffer.from(heads[i] ?? '');
      yield* createReadStream(file.path);
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(close);
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, length, stream: () => Readable.from(chunks()) };
}

export async function importImage(cli: Cli, paths: string[], options: ImportOptions): Promise<string> {
  const files = await Promise.all(paths.map(imageFile));
  const [first] = files;
  if (!first) throw new UsageError('expected an image file');
  const headers = importHeaders(basename(first.path), options);
  let source: Readable;
  let length: number;
  if (files.length === 1) {
    source = createReadStream(first.path);
    length = first.size;
    headers['Content-Type'] = 'application/octet-stream';
  } else {
    const body = multipartBody([
      { name: 'metadata', file: first },
      { name: 'rootfs', file: files[1] as ImageFile },
    ]);
    source = body.stream();
    length = body.length;
    headers['Content-Type'] = body.contentType;
  }
  headers['Content-Length'] = String(length);
  const meter = new TransferMeter('Uploading image', length);
  try {
    // pipeline, not pipe: a read error of the file must reach the request as an error.
    const body = chain(source, meter.tap(), () => undefined);
    const result = await cli.client.sendStream<ImageImportResult>('POST', IMAGES, body, headers);
    return result.fingerprint;
  } finally {
    meter.stop();
  }
}

// ---- Export ----

/** Where `image export` writes: into a directory under the server's names, or at a file path. */
export type ExportTarget = { directory: string } | { file: string };

/** The file name of a Content-Disposition header, reduced to a safe base name. */
export function dispositionFilename(header: string | undefined): string | undefined {
  const match = /filename\s*=\s*(?:"([^"]*)"|([^;]*))/i.exec(header ?? '');
  return safeName(match?.[1] ?? match?.[2]);
}

function safeName(name: string | undefined): string | undefined {
  const base = basename((name ?? '').trim());
  return base === '' || base === '.' || base === '..' || base.includes('\0') ? undefined : base;
}

/**
 * The path of one exported file. In a directory it keeps the name the server gives it (the
 * fingerprint when it gives none); at a file path the rootfs of a split image gets `.root`
 * appended, as lxc does.
 */
export function exportPath(target: ExportTarget, part: 'image' | 'metadata' | 'rootfs', serverName: string | undefined, fingerprint: string): string {
  if ('file' in target) return part === 'rootfs' ? `${target.file}.root` : target.file;
  return join(target.directory, safeName(serverName) ?? (part === 'rootfs' ? `${fingerprint}.rootfs` : fingerprint));
}

async function exportTarget(given: string | undefined): Promise<ExportTarget> {
  const path = given ?? '.';
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? { directory: path } : { file: path };
}

/**
 * Files written under a temporary name beside their target, and renamed into place only once all
 * of them are complete and verified: a failed export leaves no partial file, and never damages a
 * file that was there before.
 */
class StagedFiles {
  /** Temporary path → target path. */
  private readonly staged = new Map<string, string>();

  create(path: string): Writable {
    const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.part`);
    this.staged.set(temporary, path);
    return createWriteStream(temporary, { flags: 'wx' });
  }

  async commit(): Promise<string[]> {
    for (const [temporary, path] of this.staged) await rename(temporary, path);
    return [...this.staged.values()];
  }

  async discard(): Promise<void> {
    await Promise.all([...this.staged.keys()].map((temporary) => rm(temporary, { force: true })));
  }

  /** A file that cannot be written is named in the message (by its target); other errors pass. */
  writeError(err: unknown): unknown {
    const path = (err as NodeJS.ErrnoException).path;
    if (typeof path !== 'string') return err;
    return new UsageError(`cannot write ${this.staged.get(path) ?? path}: ${systemMessage(err)}`);
  }
}

/** Writes the exported files, checks them against the fingerprint, and returns their paths. */
async function exportImage(cli: Cli, image: Image, target: ExportTarget): Promise<string[]> {
  const res = await cli.client.download(`${imagePath(image.fingerprint)}/export`);
  const hash = createHash('sha256');
  const meter = new TransferMeter('Exporting image', image.size);
  const files = new StagedFiles();
  try {
    if (/^multipart\/form-data/i.test(res.headers['content-type'] ?? '')) {
      await receiveParts(res, target, image.fingerprint, meter, hash, files);
    } else {
      const path = exportPath(target, 'image', dispositionFilename(res.headers['content-disposition']), image.fingerprint);
      await pipeline(res, meter.tap(hash), files.create(path));
    }
    const fingerprint = hash.digest('hex');
    if (fingerprint !== image.fingerprint) {
      throw new UsageError(`the exported image has fingerprint ${fingerprint}, expected ${image.fingerprint}; nothing was written`);
    }
    return await files.commit();
  } catch (err) {
    await files.discard();
    throw files.writeError(err);
  } finally {
    meter.stop();
  }
}

/**
 * The metadata and rootfs parts of a split export, each to its file. Parts are written one after
 * the other, so that the hash sees metadata then rootfs, which is the fingerprint's order.
 */
function receiveParts(
  res: IncomingMessage,
  target: ExportTarget,
  fingerprint: string,
  meter: TransferMeter,
  hash: Hash,
  files: StagedFiles,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const parser = busboy({ headers: res.headers, limits: { files: 2, fields: 0 } });
    const seen: string[] = [];
    let previous: Promise<void> = Promise.resolve();
    const fail = (err: Error) => {
      res.unpipe(parser);
      res.destroy();
      reject(err);
    };
    parser.on('file', (name: string, stream: Readable, info: { filename?: string }) => {
      const expected = seen.length === 0 ? 'metadata' : 'rootfs';
      if (name !== expected) {
        stream.resume();
        fail(new UsageError(`unexpected part "${name}" in the export of ${fingerprint} (expected ${expected})`));
        return;
      }
      seen.push(name);
      const path = exportPath(target, name, info.filename, fingerprint);
      previous = previous.then(() => pipeline(stream, meter.tap(hash), files.create(path)));
      previous.catch(fail);
    });
    parser.on('error', (err: Error) => fail(new UsageError(`invalid export of ${fingerprint}: ${err.message}`)));
    parser.on('close', () => {
      previous.then(() => {
        if (seen.length !== 2) reject(new UsageError(`the export of ${fingerprint} lacks its ${seen.length === 0 ? 'metadata' : 'rootfs'} part`));
        else resolve();
      }, reject);
    });
    res.pipe(parser);
  });
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
