import type { Readable } from 'node:stream';
import { extract as createExtract, type Extract, type Header } from 'tar-stream';
import { DomainError } from '#core';
import type { TarEntryHeader, TarEntryType, Timestamp } from '../domain/archive-entry.js';
import type { ExtractionLimits } from '../domain/extraction-limits.js';
import { ArchiveLimitExceededError, CorruptArchiveError, UnsafeArchiveError } from '../domain/image.errors.js';
import { checkGlobalPaxRecords, interpretPaxRecords, parsePaxRecords, type PaxAttributes } from './pax-records.js';

const BLOCK = 512;
/* Two zero blocks end a tar archive; a stream that stops right after an entry was cut short. */
const END_OF_ARCHIVE_BYTES = 2 * BLOCK;
const MAX_DEVICE_NUMBER = 0xffffffff;

export interface TarEntry {
  readonly header: TarEntryHeader;
  /** PAX keywords understood but not applied (POSIX ACLs), for warnings. */
  readonly ignoredPaxKeywords: readonly string[];
  /** The entry's data; must be read to the end before the next entry is requested. */
  readonly body: AsyncIterable<Buffer>;
}

/* tar-stream 3.2 fields used below: `byteOffset` is where an entry's data starts in the stream. */
type ParsedHeaders = Omit<Header, 'type' | 'linkname'> & { type: string | null; linkname: string | null; byteOffset?: number };
type LongHeaderDecoder = (this: { _header: { type: string } }, body: Buffer) => void;

/**
 * Parses a decompressed tar stream with tar-stream and yields its entries in order. Nothing here
 * touches the filesystem. Two things tar-stream does not give us are taken from its long-header
 * step (see observeLongHeaders): the raw bytes of PAX headers, and a tighter size cap on them.
 */
export async function* readTarEntries(decompressed: Readable, file: string, limits: ExtractionLimits): AsyncGenerator<TarEntry> {
  const extract = createExtract();
  const paxOfHeader = new WeakMap<object, PaxAttributes>();
  let pendingPax: PaxAttributes | null = null;
  observeLongHeaders(extract, limits, (pax) => (pendingPax = pax));
  extract.on('entry', (headers: object) => {
    if (pendingPax !== null) paxOfHeader.set(headers, pendingPax);
    pendingPax = null;
  });

  let streamBytes = 0;
  const pumping = pump(decompressed, extract, (n) => (streamBytes += n));
  let endOfLastEntry = 0;
  try {
    for await (const entry of extract) {
      const raw = entry.header as unknown as ParsedHeaders;
      const pax = paxOfHeader.get(raw) ?? null;
      const header = toEntryHeader(raw, pax, file);
      endOfLastEntry = (raw.byteOffset ?? 0) + Math.ceil(header.size / BLOCK) * BLOCK;
      yield { header, ignoredPaxKeywords: pax?.ignored ?? [], body: withArchiveErrors(entry as AsyncIterable<Buffer>, file, limits) };
    }
    await pumping;
    if (endOfLastEntry > 0 && streamBytes < endOfLastEntry + END_OF_ARCHIVE_BYTES) {
      throw new CorruptArchiveError(file, 'the archive ends without its end-of-archive blocks (truncated)');
    }
  } catch (error) {
    throw asArchiveError(error, file, limits);
  } finally {
    extract.destroy();
    decompressed.destroy();
  }
}

async function pump(source: Readable, extract: Extract, count: (bytes: number) => void): Promise<void> {
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      count(chunk.length);
      if (!extract.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            extract.off('drain', done);
            extract.off('close', done);
            resolve();
          };
          extract.on('drain', done);
          extract.on('close', done);
        });
      }
      if (extract.destroyed) return;
    }
    extract.end(undefined);
  } catch (error) {
    extract.destroy(error as Error);
  }
}

/*
 * tar-stream decodes PAX values as UTF-8 text (binary xattrs are lost) and buffers long headers
 * up to 4 MiB. Its per-instance `_decodeLongHeader` sees each long header's raw body once it is
 * buffered: we parse PAX bodies strictly from there and apply our own, smaller cap. Errors thrown
 * here abort the parse. This is a tar-stream 3.2 internal; the check below and the xattr specs
 * fail loudly if it changes.
 */
function observeLongHeaders(extract: Extract, limits: ExtractionLimits, onPax: (pax: PaxAttributes) => void): void {
  const internals = extract as unknown as { _decodeLongHeader?: LongHeaderDecoder };
  const decode = internals._decodeLongHeader;
  if (typeof decode !== 'function') throw new Error('tar-stream has no _decodeLongHeader: libs/images needs updating for this tar-stream version');
  internals._decodeLongHeader = function (this: { _header: { type: string } }, body: Buffer) {
    if (body.length > limits.maxPaxHeaderBytes) throw new ArchiveLimitExceededError('maxPaxHeaderBytes', limits.maxPaxHeaderBytes);
    if (this._header.type === 'pax-header') onPax(interpretPaxRecords(parsePaxRecords(body, '(PAX header)'), '(PAX header)'));
    if (this._header.type === 'pax-global-header') checkGlobalPaxRecords(parsePaxRecords(body, '(global PAX header)'));
    decode.call(this, body);
  };
}

function toEntryHeader(raw: ParsedHeaders, pax: PaxAttributes | null, file: string): TarEntryHeader {
  const name = raw.name;
  const corrupt = (field: string) => new CorruptArchiveError(file, `entry ${JSON.stringify(name)} has an invalid ${field}`);
  // tar-stream applied PAX path, linkpath and size itself; our strict reading must agree with it.
  if (pax?.path !== undefined && pax.path !== name) throw new UnsafeArchiveError(name, 'PAX path and parsed name disagree');
  if (pax?.linkpath !== undefined && pax.linkpath !== raw.linkname) throw new UnsafeArchiveError(name, 'PAX linkpath and parsed link disagree');
  if (pax?.size !== undefined && pax.size !== raw.size) throw new UnsafeArchiveError(name, 'PAX size and parsed size disagree');

  const size = raw.size ?? 0;
  const mode = raw.mode ?? 0;
  const uid = pax?.uid ?? raw.uid ?? 0;
  const gid = pax?.gid ?? raw.gid ?? 0;
  const devMajor = raw.devmajor ?? 0;
  const devMinor = raw.devminor ?? 0;
  if (!Number.isSafeInteger(size) || size < 0) throw corrupt('size');
  if (!Number.isSafeInteger(mode) || mode < 0) throw corrupt('mode');
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw corrupt('owner');
  for (const device of [devMajor, devMinor]) {
    if (!Number.isSafeInteger(device) || device < 0 || device > MAX_DEVICE_NUMBER) throw corrupt('device number');
  }
  return {
    name,
    type: entryType(raw.type),
    linkName: raw.linkname ?? null,
    size,
    mode,
    uid,
    gid,
    mtime: pax?.mtime ?? headerTime(raw.mtime, corrupt),
    devMajor,
    devMinor,
    xattrs: pax?.xattrs ?? new Map(),
  };
}

function headerTime(mtime: Date | undefined, corrupt: (field: string) => Error): Timestamp {
  const millis = mtime?.getTime() ?? 0;
  if (!Number.isSafeInteger(millis)) throw corrupt('mtime');
  return { seconds: Math.floor(millis / 1000), nanoseconds: 0 };
}

function entryType(type: string | null): TarEntryType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'link':
      return 'hardlink';
    case 'directory':
    case 'symlink':
    case 'character-device':
    case 'block-device':
    case 'fifo':
      return type;
    default:
      return 'unsupported';
  }
}

/* Damage found while an entry's data is read (truncation, a bad gzip block) surfaces here. */
async function* withArchiveErrors(body: AsyncIterable<Buffer>, file: string, limits: ExtractionLimits): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (error) {
    throw asArchiveError(error, file, limits);
  }
}

/* tar-stream and zlib report damage as plain Errors; give them a code. */
function asArchiveError(error: unknown, file: string, limits: ExtractionLimits): unknown {
  if (error instanceof DomainError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/exceeds max size/i.test(message)) return new ArchiveLimitExceededError('maxPaxHeaderBytes', limits.maxPaxHeaderBytes);
  if (error instanceof Error && error.name === 'AbortError') return error;
  return new CorruptArchiveError(file, message);
}
