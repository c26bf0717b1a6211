import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { detectCompression } from '#images';
import { SourceNotFoundError, SourceUnreadableError, UnknownSourceFormatError } from './source.errors.js';

export type VmSourceKind = 'tarball' | 'directory' | 'raw' | 'qcow2';

const QCOW2_MAGIC = Buffer.from('QFI\xfb', 'latin1');
const GPT_SIGNATURE = Buffer.from('EFI PART', 'latin1');
/* The GPT header is at LBA 1: byte 512, or 4096 on a 4Kn disk. */
const GPT_HEADER_OFFSETS = [512, 4096];
const MBR_SIGNATURE_OFFSET = 510;
/** Bytes of a file's start that classifySourceHead looks at. */
export const SOURCE_HEAD_BYTES = 4096 + GPT_SIGNATURE.length;

/**
 * What a file is by its first bytes: qcow2 ("QFI\xfb"), a raw disk with a GPT ("EFI PART" at LBA 1),
 * a gzip, xz, zstd or plain (ustar) tarball, or a raw disk with an MBR (0x55AA at byte 510).
 * The MBR signature comes last: it is two bytes any file may hold.
 */
export function classifySourceHead(head: Buffer): Exclude<VmSourceKind, 'directory'> | undefined {
  const at = (offset: number, magic: Buffer) => head.length >= offset + magic.length && head.subarray(offset, offset + magic.length).equals(magic);
  if (at(0, QCOW2_MAGIC)) return 'qcow2';
  if (GPT_HEADER_OFFSETS.some((offset) => at(offset, GPT_SIGNATURE))) return 'raw';
  if (detectCompression(head) !== undefined) return 'tarball';
  if (head.length >= 512 && head.readUInt16LE(MBR_SIGNATURE_OFFSET) === 0xaa55) return 'raw';
  return undefined;
}

/**
 * The kind of a VM source, by stat and magic bytes: a directory; a gzip/xz/zstd/plain tarball;
 * a qcow2 image; a raw disk with an MBR or GPT. Throws SourceNotFoundError,
 * SourceUnreadableError or UnknownSourceFormatError naming `path`.
 */
export async function detectVmSource(path: string): Promise<VmSourceKind> {
  const info = await statSource(path);
  if (info.isDirectory()) return 'directory';
  if (!info.isFile()) throw new UnknownSourceFormatError(path, 'it is neither a regular file nor a directory');
  const kind = classifySourceHead(await readHead(path));
  if (kind === undefined) {
    throw new UnknownSourceFormatError(path, 'not a tarball (gzip, xz, zstd or plain), a qcow2 image, or a raw disk with an MBR or GPT partition table');
  }
  return kind;
}

/** stat(2) of the source, with its failures as typed errors. */
export async function statSource(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    throw sourceAccessError(path, error);
  }
}

async function readHead(path: string): Promise<Buffer> {
  try {
    const handle = await open(path, 'r');
    try {
      const head = Buffer.alloc(SOURCE_HEAD_BYTES);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw sourceAccessError(path, error);
  }
}

/** ENOENT/ENOTDIR become SourceNotFoundError, other errnos SourceUnreadableError; anything else is rethrown. */
export function sourceAccessError(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SourceNotFoundError(path);
  if (typeof code === 'string' && code.startsWith('E')) return new SourceUnreadableError(path, code);
  return error;
}
