/*
 * Builders for the specs of libs/images: image archives crafted in the test, mostly with
 * tar-stream's pack (the same library that parses them), plus raw ustar blocks for what pack
 * cannot express (GNU sparse, a lying PAX size, a global PAX header, a bad checksum).
 * Not exported from the lib's index.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGzip, gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { DomainError } from '#core';

export type CraftedEntry = Partial<Header> & { name: string; content?: string | Buffer; pax?: Record<string, string> };

export const METADATA_YAML = 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: debian\n  release: bookworm\n';

/** metadata.yaml and rootfs/ followed by `entries`: the smallest valid unified image plus the case under test. */
export function unifiedImage(entries: CraftedEntry[]): CraftedEntry[] {
  return [{ name: 'metadata.yaml', content: METADATA_YAML }, { name: 'rootfs/', type: 'directory', mode: 0o755 }, ...entries];
}

/** A tar built by tar-stream's pack, ended with its two zero blocks. */
export async function packTar(entries: CraftedEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { content, ...header } of entries) {
    const body = typeof content === 'string' ? Buffer.from(content) : (content ?? Buffer.alloc(0));
    await new Promise<void>((resolve, reject) => tar.entry({ mtime: new Date(1_700_000_000_000), ...header }, body, (error) => (error ? reject(error) : resolve())));
  }
  tar.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** One ustar header block (checksum computed unless given) for entries pack cannot produce. */
export function rawHeader(fields: { name: string; typeflag: string; size?: number; mode?: number; uid?: number; linkname?: string; checksum?: number }): Buffer {
  const block = Buffer.alloc(512);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, '0') + '\0';
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode ?? 0o644, 8), 100, 'latin1');
  block.write(octal(fields.uid ?? 0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(fields.size ?? 0, 12), 124, 'latin1');
  block.write(octal(1_700_000_000, 12), 136, 'latin1');
  block.write(fields.typeflag, 156, 'latin1');
  if (fields.linkname !== undefined) block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(fields.checksum ?? sum, 7) + ' ', 148, 'latin1');
  return block;
}

/** A PAX header body from raw records ("LEN key=value\n"), values as given (binary allowed). */
export function paxBody(records: [string, string | Buffer][]): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const payload = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
      let length = payload.length + 1;
      while (String(length).length + payload.length !== length) length = String(length).length + payload.length;
      return Buffer.concat([Buffer.from(String(length)), payload]);
    }),
  );
}

/**
 * A gzipped unified image with `count` empty files under rootfs/. Headers are stamped from one
 * template (only the digits of the name and the checksum change): pack needs a minute for a
 * million entries, this takes a second or two and never holds the uncompressed tar in memory.
 */
export async function imageWithTinyEntries(count: number): Promise<Buffer> {
  const gz = createGzip({ level: 1 });
  const compressed: Buffer[] = [];
  gz.on('data', (chunk: Buffer) => compressed.push(chunk));
  const ended = once(gz, 'end');
  const prefix = await packTar(unifiedImage([]));
  gz.write(prefix.subarray(0, prefix.length - END_OF_ARCHIVE.length));

  const digits = 7;
  const template = rawHeader({ name: `rootfs/f${'0'.repeat(digits)}`, typeflag: '0' });
  const nameStart = 'rootfs/f'.length;
  let templateSum = 0;
  for (let i = 0; i < 512; i++) templateSum += i >= 148 && i < 156 ? 0x20 : template[i];
  const zeroDigitsSum = digits * 0x30;
  const batchSize = 8192;
  for (let first = 0; first < count; first += batchSize) {
    const n = Math.min(batchSize, count - first);
    const batch = Buffer.allocUnsafe(n * 512);
    for (let k = 0; k < n; k++) {
      const header = batch.subarray(k * 512, (k + 1) * 512);
      template.copy(header);
      const name = String(first + k).padStart(digits, '0');
      header.write(name, nameStart, 'latin1');
      let sum = templateSum - zeroDigitsSum;
      for (let d = 0; d < digits; d++) sum += name.charCodeAt(d);
      header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    }
    if (!gz.write(batch)) await once(gz, 'drain');
  }
  gz.end(END_OF_ARCHIVE);
  await ended;
  return Buffer.concat(compressed);
}

/**
 * A gzip bomb: a unified image whose rootfs holds `files` zero-filled files of `fileBytes` each
 * (a multiple of 512). Concatenated gzip members are one valid gzip stream, so the zeros are
 * compressed once and repeated: about 1 KB of file per MiB expanded.
 */
export async function gzipBomb(files: number, fileBytes: number): Promise<Buffer> {
  const prefix = await packTar(unifiedImage([]));
  const zeros = gzipSync(Buffer.alloc(fileBytes), { level: 9 });
  const members = [gzipSync(prefix.subarray(0, prefix.length - END_OF_ARCHIVE.length))];
  for (let i = 0; i < files; i++) members.push(gzipSync(rawHeader({ name: `rootfs/zeros${i}`, typeflag: '0', size: fileBytes })), zeros);
  members.push(gzipSync(END_OF_ARCHIVE));
  return Buffer.concat(members);
}

/** Data padded to whole 512-byte blocks. */
export function blocks(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

export function gzip(data: Buffer): Buffer {
  return gzipSync(data);
}

export function xz(data: Buffer): Buffer {
  return execFileSync('/usr/bin/xz', ['--compress', '--stdout', '-1'], { input: data, maxBuffer: 1 << 30 });
}

export function zstd(data: Buffer): Buffer {
  return execFileSync('/usr/bin/zstd', ['--compress', '--stdout', '-q', '-1'], { input: data, maxBuffer: 1 << 30 });
}

/** What `sha256sum` prints for the concatenation of files (the real tool, not our code). */
export function sha256sumOf(...paths: string[]): string {
  const output = execFileSync('/bin/sh', ['-c', 'cat "$@" | sha256sum', 'sh', ...paths], { encoding: 'utf8' });
  return output.split(' ')[0];
}

/**
 * A scratch directory holding the image files, a `sentinel/` directory next to the target (the
 * place escapes aim at) and the target path itself, which must not exist before the import.
 */
export class Sandbox {
  readonly base = mkdtempSync(join(tmpdir(), 'berth-images-'));
  readonly sentinel = join(this.base, 'sentinel');
  readonly target = join(this.base, 'target');
  private readonly files: string[] = [];
  private readonly sentinelBefore: string;

  constructor() {
    mkdirSync(this.sentinel);
    writeFileSync(join(this.sentinel, 'file'), 'untouched\n');
    this.sentinelBefore = describeTree(this.sentinel);
  }

  write(name: string, data: Buffer): string {
    const path = join(this.base, name);
    writeFileSync(path, data);
    this.files.push(name);
    return path;
  }

  /** Nothing changed in the sentinel, and the base holds nothing but the image files and the sentinel. */
  assertNothingEscaped(): void {
    assert.equal(describeTree(this.sentinel), this.sentinelBefore, 'the sentinel directory next to the target changed');
    assert.deepEqual(readdirSync(this.base).sort(), [...this.files, 'sentinel'].sort(), 'something was left next to the target');
  }

  cleanup(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

/** A listing of a tree with types, modes, owners and content hashes, never following symlinks. */
export function describeTree(root: string): string {
  const lines: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(path)}`
        : st.isFile()
          ? createHash('sha256').update(readFileSync(path)).digest('hex')
          : '';
      lines.push(`${prefix}${name} ${st.mode.toString(8)} ${st.uid}:${st.gid} links=${st.nlink} ${what}`);
      if (st.isDirectory()) walk(path, `${prefix}${name}/`);
    }
  };
  walk(root, '');
  return lines.join('\n');
}

/** Awaits a rejection with the given error class and code, and returns the error for more checks. */
export async function rejection<E extends DomainError>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E, code: string): Promise<E> {
  const error = await promise.then(
    () => assert.fail(`expected ${type.name}, but the import succeeded`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error instanceof Error ? `${error.name}: ${error.message}` : error)}`);
  assert.equal(error.code, code);
  return error;
}
