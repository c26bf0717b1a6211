import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { PlannedEntry } from '../domain/archive-entry.js';
import type { ImageMetadata } from '../domain/image-metadata.js';
import { parseImageMetadata } from '../domain/image-metadata.js';
import { type ExtractionLimits, resolveExtractionLimits } from '../domain/extraction-limits.js';
import { CorruptArchiveError, FingerprintMismatchError, InvalidImageMetadataError } from '../domain/image.errors.js';
import { type ArchiveRole, ImageLayoutPolicy } from '../domain/image-layout-policy.js';
import { ByteBudget, type Compression, openArchive } from './decompression.js';
import { readTarEntries } from './tar-entries.js';
import { type IdShift, locateUnpackHelper, removeExtractedTree, UnpackHelperProcess } from './unpack-helper.js';
import { encodeDirectoryTimesRecord, encodeEntryRecord } from './unpack-records.js';

/** The files of an LXD image as uploaded: one unified tarball, or a metadata and a rootfs tarball. */
export type ImageFiles =
  | { readonly kind: 'unified'; readonly path: string }
  | { readonly kind: 'split'; readonly metadataPath: string; readonly rootfsPath: string };

export interface UnpackProgress {
  /** Compressed bytes read so far, over all files. */
  readonly bytesRead: number;
  readonly totalBytes: number;
  readonly entries: number;
}

export interface UnpackImageRequest {
  readonly files: ImageFiles;
  /** Absolute path of the directory to create (metadata.yaml, rootfs/, templates/); must not exist. */
  readonly target: string;
  /** The id mapping to write owners with; identity when absent. */
  readonly idShift?: IdShift;
  /** Create device nodes and FIFOs (privileged targets only); otherwise they are dropped with a warning. */
  readonly privileged?: boolean;
  /** When given (X-LXD-fingerprint), a different fingerprint fails the import. */
  readonly expectedFingerprint?: string;
  readonly limits?: Partial<ExtractionLimits>;
  /** berth-unpack to run; see locateUnpackHelper for the default. */
  readonly helperPath?: string;
  readonly signal?: AbortSignal;
  /** Called at most every 250 ms while unpacking, and once at the end. */
  readonly onProgress?: (progress: UnpackProgress) => void;
}

export interface UnpackedImage {
  /** sha256 of the unified tarball, or of the metadata tarball followed by the rootfs tarball. */
  readonly fingerprint: string;
  readonly type: ImageFiles['kind'];
  readonly metadata: ImageMetadata;
  /** Bytes of the image files as given (LXD's image size). */
  readonly size: number;
  readonly compression: readonly Compression[];
  readonly entries: number;
  /** Bytes of regular-file content written. */
  readonly bytesWritten: number;
  /** Entries or attributes dropped on the way (devices when unprivileged, xattrs outside the allow-list). */
  readonly warnings: readonly string[];
}

const PROGRESS_INTERVAL_MS = 250;

/**
 * Imports an LXD image into `target`: one pass over each file computes the fingerprint, streams
 * the decompressed tar through tar-stream and the layout policy, and hands exactly the admitted
 * entries and their bytes to berth-unpack, which does every write. On any failure, rejection or
 * abort, the helper is stopped and the target it created is removed, then the error is rethrown:
 * no partial directory is left behind. A target that already exists is refused and left alone.
 */
export async function unpackImage(request: UnpackImageRequest): Promise<UnpackedImage> {
  const limits = resolveExtractionLimits(request.limits);
  const helperPath = locateUnpackHelper(request.helperPath);
  const sources: [string, ArchiveRole][] =
    request.files.kind === 'unified'
      ? [[request.files.path, 'unified']]
      : [
          [request.files.metadataPath, 'metadata'],
          [request.files.rootfsPath, 'rootfs'],
        ];
  const progress = progressReporter(request.onProgress, await totalSize(sources.map(([path]) => path)));

  return withUnpackHelper({ ...request, helperPath, failure: 'Image import' }, async (helper) => {
    const policy = new ImageLayoutPolicy(limits, request.idShift?.range ?? 0xffffffff);
    const hash = createHash('sha256');
    const budget = new ByteBudget(limits.maxTotalBytes);
    const session: ExtractionSession = { helper, policy, limits, progress, warnings: [], signal: request.signal };
    const compression: Compression[] = [];
    let metadata: ImageMetadata | undefined;

    for (const [path, role] of sources) {
      const archive = await openArchive(path, hash, budget, progress.read);
      compression.push(archive.compression);
      await extractArchiveEntries(session, archive.stream, path, role, (bytes) => (metadata = parseImageMetadata(bytes.toString('utf8'))));
    }

    for (const times of policy.finish()) await helper.write(encodeDirectoryTimesRecord(times));
    if (metadata === undefined) throw new InvalidImageMetadataError('metadata.yaml', 'is missing');
    for (const template of metadata.templates) {
      if (!policy.isRegularFile(`templates/${template.template}`)) {
        throw new InvalidImageMetadataError(`templates[${JSON.stringify(template.path)}].template`, `templates/${template.template} is not in the image`);
      }
    }
    const summary = await helper.finish();
    const fingerprint = hash.digest('hex');
    if (request.expectedFingerprint !== undefined && request.expectedFingerprint.toLowerCase() !== fingerprint) {
      throw new FingerprintMismatchError(request.expectedFingerprint, fingerprint);
    }
    progress.done();
    return {
      fingerprint,
      type: request.files.kind,
      metadata,
      size: progress.bytesRead(),
      compression,
      entries: summary.entries,
      bytesWritten: summary.bytes,
      warnings: [...session.warnings, ...helper.warnings],
    };
  });
}

/** What one extraction shares between its archives: the writer, the policy and what was seen. */
export interface ExtractionSession {
  readonly helper: UnpackHelperProcess;
  readonly policy: ImageLayoutPolicy;
  readonly limits: ExtractionLimits;
  readonly progress: ProgressReporter;
  readonly warnings: string[];
  readonly signal?: AbortSignal;
  /** The archive root's own entry, in the 'tree' role (the helper never writes the root itself). */
  root?: PlannedEntry;
}

/**
 * Starts berth-unpack on `target` and runs `work` with it. On any failure, rejection or abort, the
 * helper is stopped and the target it created is removed, then the error is rethrown: no partial
 * directory is left behind. A target that already exists is refused and left alone.
 */
export async function withUnpackHelper<T>(
  options: Pick<UnpackImageRequest, 'target' | 'idShift' | 'privileged' | 'signal'> & { readonly helperPath: string; readonly failure: string },
  work: (helper: UnpackHelperProcess) => Promise<T>,
): Promise<T> {
  options.signal?.throwIfAborted();
  const helper = await UnpackHelperProcess.start({ helperPath: options.helperPath, target: options.target, idShift: options.idShift, privileged: options.privileged });
  const stopHelper = () => void helper.abort();
  options.signal?.addEventListener('abort', stopHelper, { once: true });
  try {
    return await work(helper);
  } catch (error) {
    await helper.abort();
    try {
      await removeExtractedTree(options.helperPath, options.target);
    } catch (removal) {
      throw new AggregateError([error, removal], `${options.failure} failed and its partial target ${options.target} could not be removed`);
    }
    if (options.signal?.aborted === true) throw options.signal.reason;
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stopHelper);
  }
}

/**
 * Streams one decompressed tar through tar-stream and the layout policy, and hands exactly the
 * admitted entries and their bytes to the helper. A top-level metadata.yaml of an image is read
 * whole and given to `onMetadata` before it is written: what is validated is what is stored.
 */
export async function extractArchiveEntries(
  session: ExtractionSession,
  stream: Readable,
  file: string,
  role: ArchiveRole,
  onMetadata?: (bytes: Buffer) => void,
): Promise<void> {
  const { helper, policy, progress, warnings, signal } = session;
  for await (const { header, ignoredPaxKeywords, body } of readTarEntries(stream, file, session.limits)) {
    signal?.throwIfAborted();
    const admitted = policy.admit(header, role);
    progress.entry();
    warnings.push(...admitted.warnings, ...ignoredPaxKeywords.map((keyword) => `${header.name}: dropped ${keyword}`));
    if (admitted.root !== undefined) session.root = admitted.root;
    for (const entry of admitted.entries) await helper.write(encodeEntryRecord(entry));
    const entry = admitted.entries.at(-1);
    if (entry?.kind !== 'file') continue;
    if (role !== 'tree' && entry.path === 'metadata.yaml' && onMetadata !== undefined) {
      const bytes = await readAll(body, entry.size, file, header.name);
      onMetadata(bytes);
      await helper.write(bytes);
    } else {
      await copyBody(body, entry.size, file, header.name, (chunk) => helper.write(chunk));
    }
  }
}

async function readAll(body: AsyncIterable<Buffer>, size: number, file: string, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await copyBody(body, size, file, name, async (chunk) => void chunks.push(chunk));
  return Buffer.concat(chunks);
}

async function copyBody(body: AsyncIterable<Buffer>, size: number, file: string, name: string, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  let copied = 0;
  for await (const chunk of body) {
    copied += chunk.length;
    await write(chunk);
  }
  if (copied !== size) throw new CorruptArchiveError(file, `entry ${JSON.stringify(name)} has ${copied} of its ${size} bytes`);
}

async function totalSize(paths: string[]): Promise<number> {
  const sizes = await Promise.all(paths.map(async (path) => (await stat(path)).size));
  return sizes.reduce((a, b) => a + b, 0);
}

export type ProgressReporter = ReturnType<typeof progressReporter>;

/** Reports bytes read and entries seen at most every 250 ms, and once more from done(). */
export function progressReporter(onProgress: ((progress: UnpackProgress) => void) | undefined, totalBytes: number) {
  let bytesRead = 0;
  let entries = 0;
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (onProgress === undefined || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = now;
    onProgress({ bytesRead, totalBytes, entries });
  };
  return {
    read: (bytes: number) => {
      bytesRead += bytes;
      report(false);
    },
    entry: () => {
      entries += 1;
    },
    done: () => report(true),
    bytesRead: () => bytesRead,
  };
}
