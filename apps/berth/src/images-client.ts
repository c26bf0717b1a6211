// berthd's image endpoints as the CLI uses them: finding an image by alias or fingerprint,
// uploading image files (LXD's upload headers, multipart for a split image), and exporting them
// verified against their fingerprint. Transfers show a progress bar on a terminal.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { pipeline as chain, Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { SingleBar } from 'cli-progress';
import type { ConfigMap, Image, ImageAlias, ImageBuildResult, ImageImportResult } from './api.js';
import { segment, type Cli } from './cli.js';
import { ApiError, type RequestHeaders } from './client.js';
import { UsageError } from './errors.js';
import { formatSize } from './format.js';
import { OperationUpdates } from './operation-updates.js';
import { recipeTar, recipeUpload } from './recipe-upload.js';

export const IMAGES = '/1.0/images';
export const ALIASES = '/1.0/images/aliases';
export const imagePath = (fingerprint: string) => `${IMAGES}/${segment(fingerprint)}`;
export const aliasPath = (name: string) => `${ALIASES}/${segment(name)}`;

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

export interface ImportOptions {
  alias: string[];
  public: boolean;
  property: ConfigMap;
}

/**
 * LXD's upload headers; each alias is URL-encoded so that a comma in one cannot split it. Without
 * a file name, berthd names the image file.
 */
export function importHeaders(filename: string | undefined, options: ImportOptions): RequestHeaders {
  const headers: RequestHeaders = {
    ...(filename === undefined ? {} : { 'X-LXD-filename': filename }),
    'X-LXD-public': options.public ? 'true' : 'false',
  };
  const properties = new URLSearchParams(options.property).toString();
  if (properties !== '') headers['X-LXD-properties'] = properties;
  if (options.alias.length > 0) headers['X-LXD-aliases'] = options.alias.map(encodeURIComponent).join(',');
  return headers;
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

// ---- Build ----

/**
 * Has berthd build an image from a recipe and import it (POST /1.0/images, Berth's
 * application/x-berth-recipe): the recipe's directory and those of the recipes it is based on
 * are uploaded, and berthd does the rest in an operation. `log` gets a line naming the recipe once
 * berthd accepted it, then each line of the build as berthd reports it (its operation's
 * `build_log`). An image that was already there gets the aliases it lacked.
 */
export async function buildImage(cli: Cli, recipe: string, alias: string[], log: (line: string) => void): Promise<ImageBuildResult> {
  const upload = await recipeUpload(recipe);
  const updates = await OperationUpdates.listen(cli.client, (operation) => {
    const line = operation.metadata?.build_log;
    if (typeof line === 'string') log(line);
  });
  let started = false;
  try {
    const headers = {
      ...importHeaders(undefined, { alias, public: false, property: {} }),
      'Content-Type': 'application/x-berth-recipe',
      'X-Berth-Recipe': encodeURIComponent(upload.recipe),
    };
    return await cli.client.sendStream<ImageBuildResult>('POST', IMAGES, recipeTar(upload.entries), headers, (id) => {
      started = true;
      log(`Building ${upload.name} from ${upload.file} (cached after the first build)`);
      updates.follow(id);
    });
  } finally {
    if (started) await updates.ended();
    updates.close();
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

export async function exportTarget(given: string | undefined): Promise<ExportTarget> {
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
export async function exportImage(cli: Cli, image: Image, target: ExportTarget): Promise<string[]> {
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
