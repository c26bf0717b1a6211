/*
 * Recognises the filesystem at the start of a partition from its superblock, without mounting
 * it: ext2/3/4 (magic 0xEF53 at byte 1080), XFS ("XFSB" at 0), btrfs ("_BHRfS_M" at 64 KiB + 64).
 * Reference: Documentation/filesystems/ext4/super.rst, xfs_format.h, btrfs on-disk format.
 */

export type FilesystemType = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'btrfs';

export interface FilesystemInfo {
  readonly type: FilesystemType;
  /** Bytes the filesystem says it spans (ext only; 0 when not known). */
  readonly size: number;
  /** Bytes in use, for progress (ext only; 0 when not known). */
  readonly used: number;
}

/** Bytes from the start of a partition that identifyFilesystem needs. */
export const SUPERBLOCK_PROBE_BYTES = 64 * 1024 + 4096;

const EXT_SUPERBLOCK = 1024;
const EXT_MAGIC = 0xef53;
const EXT_COMPAT_HAS_JOURNAL = 0x4;
const EXT_INCOMPAT_EXTENTS = 0x40;
const EXT_INCOMPAT_64BIT = 0x80;
const EXT_INCOMPAT_FLEX_BG = 0x200;
const EXT_MAX_LOG_BLOCK_SIZE = 6;
const BTRFS_MAGIC_OFFSET = 64 * 1024 + 64;

/** The filesystem whose first bytes are `head` (SUPERBLOCK_PROBE_BYTES of them); undefined if not one Berth reads. */
export function identifyFilesystem(head: Buffer): FilesystemInfo | undefined {
  if (head.length >= EXT_SUPERBLOCK + 1024 && head.readUInt16LE(EXT_SUPERBLOCK + 56) === EXT_MAGIC) return ext(head.subarray(EXT_SUPERBLOCK, EXT_SUPERBLOCK + 1024));
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'XFSB') return { type: 'xfs', size: 0, used: 0 };
  if (head.length >= BTRFS_MAGIC_OFFSET + 8 && head.toString('latin1', BTRFS_MAGIC_OFFSET, BTRFS_MAGIC_OFFSET + 8) === '_BHRfS_M') return { type: 'btrfs', size: 0, used: 0 };
  return undefined;
}

function ext(sb: Buffer): FilesystemInfo | undefined {
  const logBlockSize = sb.readUInt32LE(24);
  if (logBlockSize > EXT_MAX_LOG_BLOCK_SIZE) return undefined;
  const blockSize = 1024 << logBlockSize;
  const compat = sb.readUInt32LE(92);
  const incompat = sb.readUInt32LE(96);
  const wide = (incompat & EXT_INCOMPAT_64BIT) !== 0;
  const blocks = sb.readUInt32LE(4) + (wide ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
  const free = sb.readUInt32LE(12) + (wide ? sb.readUInt32LE(0x158) * 2 ** 32 : 0);
  const type = (incompat & (EXT_INCOMPAT_EXTENTS | EXT_INCOMPAT_64BIT | EXT_INCOMPAT_FLEX_BG)) !== 0 ? 'ext4' : (compat & EXT_COMPAT_HAS_JOURNAL) !== 0 ? 'ext3' : 'ext2';
  return { type, size: blocks * blockSize, used: Math.max(0, blocks - free) * blockSize };
}
