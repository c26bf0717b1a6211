import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Duplex, pipeline, Readable, Transform, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ArchiveLimitExceededError, CorruptArchiveError, UnsupportedImageFormatError } from '../domain/image.errors.js';

export type Compression = 'gzip' | 'xz' | 'zstd' | 'none';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const USTAR_MAGIC = Buffer.from('ustar');
const USTAR_MAGIC_OFFSET = 257;
/* Enough to see every magic above, the tar one included. */
const DETECTION_BYTES = 512;
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * xz and zstd run as Debian's command-line tools rather than npm decoders: native speed, no new
 * dependency with install scripts, and a decoder bug stays inside a child that runs as nobody,
 * with an empty environment (XZ_OPT and friends cannot change its behaviour), stdio pipes only,
 * and a memory limit that refuses archives built for huge decoder windows. The absolute paths
 * keep the decoder from ever being looked up anywhere an image could have put one.
 */
const DECOMPRESSORS: Readonly<Record<'xz' | 'zstd', readonly [string, ...string[]]>> = {
  xz: ['/usr/bin/xz', '--decompress', '--stdout', '--memlimit-decompress=512MiB', '--threads=1'],
  zstd: ['/usr/bin/zstd', '--decompress', '--stdout', '--quiet', '--memory=512MB'],
};
const NOBODY = 65534;
const STDERR_KEPT_BYTES = 4096;

/** Recognises the compression of an image file by its first bytes; undefined when unsupported. */
export function detectCompression(head: Buffer): Compression | undefined {
  const startsWith = (magic: Buffer) => head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
  if (startsWith(GZIP_MAGIC)) return 'gzip';
  if (startsWith(XZ_MAGIC)) return 'xz';
  if (startsWith(ZSTD_MAGIC)) return 'zstd';
  if (head.length >= USTAR_MAGIC_OFFSET + USTAR_MAGIC.length && head.subarray(USTAR_MAGIC_OFFSET, USTAR_MAGIC_OFFSET + USTAR_MAGIC.length).equals(USTAR_MAGIC)) return 'none';
  return undefined;
}

/** Counts decompressed bytes over all files of one image and stops at the cap. */
export class ByteBudget {
  private used = 0;
  constructor(readonly max: number) {}

  take(bytes: number): void {
    this.used += bytes;
    if (this.used > this.max) throw new ArchiveLimitExceededError('maxTotalBytes', this.max);
  }

  get bytesUsed(): number {
    return this.used;
  }
}

export interface OpenedArchive {
  readonly compression: Compression;
  /** Decompressed tar bytes; destroying it stops the read and any decompressor process. */
  readonly stream: Readable;
}

/**
 * Reads an image file once, from one descriptor: every byte read goes into `hash` (the
 * fingerprint is over exactly the bytes extracted) and then through the decompressor and the byte
 * budget. Nothing is buffered beyond stream chunks.
 */
export async function openArchive(path: string, hash: Hash, budget: ByteBudget, onRead: (bytes: number) => void = () => {}): Promise<OpenedArchive> {
  const handle = await open(path, 'r');
  const chunks = (async function* () {
    for await (const chunk of handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      onRead(chunk.length);
      yield chunk;
    }
  })();

  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes < DETECTION_BYTES) {
    const next = await chunks.next();
    if (next.done === true) break;
    head.push(next.value);
    headBytes += next.value.length;
  }
  const compression = detectCompression(Buffer.concat(head));
  if (compression === undefined) {
    await chunks.return(undefined);
    throw new UnsupportedImageFormatError(`${path} is not a tarball compressed with gzip, xz or zstd`);
  }
  const source = Readable.from(
    (async function* () {
      yield* head;
      yield* chunks;
    })(),
    { objectMode: false },
  );
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        budget.take(chunk.length);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  // Errors surface through the last stream, which pipeline destroys with the first error.
  const stream = pipeline(source, decompressor(compression, path), counted, () => {});
  return { compression, stream };
}

function decompressor(compression: Compression, path: string): Duplex {
  switch (compression) {
    case 'none':
      return new Transform({ transform: (chunk, _encoding, callback) => callback(null, chunk) });
    case 'gzip':
      return createGunzip({ chunkSize: 64 * 1024 });
    default:
      return new ChildProcessDecompressor(DECOMPRESSORS[compression], path);
  }
}

/** A decompressor process as a Duplex: compressed bytes to its stdin, decompressed from stdout. */
class ChildProcessDecompressor extends Duplex {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private stderr = '';

  constructor(command: readonly [string, ...string[]], private readonly file: string) {
    super();
    const [executable, ...args] = command;
    const runAsNobody = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
    this.child = spawn(executable, args, { stdio: ['pipe', 'pipe', 'pipe'], env: {}, ...runAsNobody });
    this.child.on('error', (error) => this.destroy(new Error(`Cannot run ${executable}: ${error.message}`)));
    // EPIPE when the decoder quits early on bad input: its exit status tells the real story.
    this.child.stdin.on('error', () => {});
    this.child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.child.stdout.pause();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < STDERR_KEPT_BYTES) this.stderr += chunk.toString('utf8');
    });
    this.child.on('close', (code, signal) => {
      if (code === 0) this.push(null);
      else if (!this.destroyed) {
        const detail = this.stderr.trim().split('\n')[0] || `exited with ${signal ?? code}`;
        this.destroy(new CorruptArchiveError(this.file, `${executable.split('/').pop()}: ${detail}`));
      }
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.child.stdin.write(chunk)) callback();
    else this.child.stdin.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    callback(error);
  }
}
