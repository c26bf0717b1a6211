import { lstat, mkdir, mkdtemp, open, rmdir, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AlreadyExistsError, ValidationError } from '#core';
import { type AdmittedTree, type RootfsArchive, unpackRootfsArchive, type UnpackedRootfs } from '#images';
import { detectVmSource, sourceAccessError, statSource, type VmSourceKind } from './detect-source.js';
import { chooseReader, describeReader, type DiskReader, MOUNT_FAILED_STATUS, type PartitionLocation, probeOsRelease, tarOfDirectory, tarOfPartition } from './disk-reader.js';
import { identifyFilesystem, SUPERBLOCK_PROBE_BYTES } from './filesystem.js';
import { describePartition, type DiskPartition, readPartitionTable, rootCandidates } from './partition-table.js';
import { convertQcow2ToRaw, inspectQcow2 } from './qcow2.js';
import {
  InvalidDiskImageError,
  NoRootPartitionError,
  NotARootFilesystemError,
  SourceDisappearedError,
  SourceReadFailedError,
  UnknownSourceFormatError,
} from './source.errors.js';
import type { ProducerExit } from './tar-producer.js';

export interface ExtractGuestProgress {
  readonly phase: 'convert' | 'scan' | 'copy';
  /** convert: bytes of the virtual disk converted; scan: partitions looked at; copy: bytes of the source read. */
  readonly bytesRead: number;
  /** The matching total, 0 when unknown (a directory's size is not computed beforehand). */
  readonly totalBytes: number;
  readonly entries: number;
}

export interface ExtractGuestRequest {
  /** A directory, a tarball (gzip, xz, zstd or plain), a raw disk (MBR or GPT) or a qcow2 image. Never modified. */
  readonly source: string;
  /** Skips detection by magic bytes; see detectVmSource. */
  readonly kind?: VmSourceKind;
  /** Absolute path of the root filesystem to create; it must not exist, and is removed again on any failure. */
  readonly target: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ExtractGuestProgress) => void;
  /** berth-unpack to run (the daemon's configured path); see locateUnpackHelper. */
  readonly helperPath?: string;
  /** Scratch space for a qcow2 → raw conversion and mountpoints, removed afterwards; default: the target's parent. */
  readonly workDir?: string;
  /** How a disk's filesystem is read: fuse2fs for ext2/3/4 when installed, else the kernel; set to force one. */
  readonly diskReader?: DiskReader;
}

export interface ExtractedPartition {
  readonly table: 'gpt' | 'mbr';
  readonly index: number;
  /** GPT type GUID or MBR type byte ("0x83"). */
  readonly type: string;
  /** Bytes from the start of the disk. */
  readonly start: number;
  readonly size: number;
  readonly filesystem: string;
}

export interface ExtractedGuest {
  readonly kind: VmSourceKind | 'ssh';
  /** Entries written below the target (the root itself and dropped entries not counted). */
  readonly entries: number;
  /** Bytes of regular-file content written. */
  readonly bytesWritten: number;
  /** What was dropped or skipped on the way (device nodes, xattrs outside the allow-list, ACLs, sockets). */
  readonly warnings: string[];
  /** The partition read, for disk images. */
  readonly partition?: ExtractedPartition;
  /** How a disk was read, for disk images. */
  readonly reader?: string;
}

/* Lines of GNU tar that mean the tree changed or vanished under it. */
const VANISHED = /file changed as we read it|file removed before we read it|no such file or directory|cannot stat/i;

/**
 * Reads a VM's root filesystem from `source` into the new directory `target`, through the same
 * hardened pipeline as image imports (libs/images unpackRootfsArchive): a tarball directly; a
 * directory as GNU tar's stream of a read-only bind mount of it (no symlink followed); a raw disk by its partition table
 * and the root partition's filesystem read by fuse2fs (or, as a fallback, the kernel) in a
 * private mount namespace; a qcow2 converted to raw in `workDir` first. The result must look like
 * a Linux root (etc/os-release or usr/lib/os-release). The source is never written; on any
 * failure or abort the target is gone and nothing stays mounted or attached.
 */
export async function extractGuest(request: ExtractGuestRequest): Promise<ExtractedGuest> {
  const { source, target } = request;
  if (!isAbsolute(target)) throw new ValidationError('target', `must be an absolute path: ${target}`);
  await assertAbsent(target);
  const info = await statSource(source);
  const kind = request.kind ?? (await detectVmSource(source));
  if ((kind === 'directory') !== info.isDirectory()) throw new UnknownSourceFormatError(source, `it is ${info.isDirectory() ? 'a directory' : 'not a directory'}, not a ${kind} source`);
  request.signal?.throwIfAborted();

  switch (kind) {
    case 'tarball': {
      const unpacked = await unpack(request, { path: source });
      return { kind, ...counts(unpacked), warnings: [...unpacked.warnings] };
    }
    case 'directory':
      return withScratch(request, (scratch) => extractDirectory(request, scratch));
    case 'raw':
      // Absolute, so that no reader can take the path for an option.
      return withScratch(request, (scratch) => extractDisk(request, resolve(source), scratch, 'raw'));
    case 'qcow2':
      return withScratch(request, async (scratch) => {
        const { virtualSize } = await inspectQcow2(source, request.signal);
        const raw = join(scratch, 'disk.raw');
        const report = (bytesRead: number) => request.onProgress?.({ phase: 'convert', bytesRead, totalBytes: virtualSize, entries: 0 });
        report(0);
        try {
          await convertQcow2ToRaw(source, raw, virtualSize, request.signal, report);
          report(virtualSize);
          return await extractDisk(request, raw, scratch, 'qcow2');
        } finally {
          await unlink(raw).catch(ignoreMissing);
        }
      });
  }
}

async function extractDirectory(request: ExtractGuestRequest, scratch: string): Promise<ExtractedGuest> {
  const { source } = request;
  const producer = tarOfDirectory(resolve(source), join(scratch, 'mnt'), (exit) =>
    exit.code === MOUNT_FAILED_STATUS ? new SourceReadFailedError(source, `cannot bind-mount it read-only: ${exit.lines.slice(0, 3).join(' / ')}`) : readFailure(source, exit),
  );
  const unpacked = await unpack(request, { stream: producer.stream, label: source, totalBytes: 0 });
  return { kind: 'directory', ...counts(unpacked), warnings: [...unpacked.warnings, ...producer.warnings] };
}

async function extractDisk(request: ExtractGuestRequest, image: string, scratch: string, kind: 'raw' | 'qcow2'): Promise<ExtractedGuest> {
  const { source, signal } = request;
  const handle = await open(image, 'r').catch((error: unknown) => Promise.reject(sourceAccessError(source, error)));
  let table;
  const found: { partition: DiskPartition; location: PartitionLocation; used: number }[] = [];
  const notes = new Map<number, string>();
  try {
    const readAt = async (offset: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    };
    table = await readPartitionTable(readAt, (await handle.stat()).size, source);
    for (const partition of rootCandidates(table)) {
      const filesystem = identifyFilesystem(await readAt(partition.start, Math.min(SUPERBLOCK_PROBE_BYTES, partition.size)));
      if (filesystem === undefined) notes.set(partition.index, 'no ext2/3/4, XFS or btrfs filesystem');
      else if (filesystem.size > partition.size) notes.set(partition.index, `its ${filesystem.type} filesystem claims ${filesystem.size} bytes, more than the partition`);
      else {
        const reader = chooseReader(filesystem.type, request.diskReader);
        const location = { image, offset: partition.start, size: partition.size, filesystem: filesystem.type, reader, mountpoint: join(scratch, 'mnt') };
        found.push({ partition, location, used: filesystem.used });
      }
    }
  } finally {
    await handle.close();
  }

  // Candidates in order (root type first, larger first): the first that holds os-release is the root.
  let chosen: (typeof found)[number] | undefined;
  for (const [i, candidate] of found.entries()) {
    request.onProgress?.({ phase: 'scan', bytesRead: i, totalBytes: found.length, entries: 0 });
    const probe = await probeOsRelease(candidate.location, signal);
    if (probe.found) {
      chosen = candidate;
      break;
    }
    notes.set(candidate.partition.index, probe.mountError !== undefined ? `${candidate.location.reader} cannot mount its ${candidate.location.filesystem} filesystem (${probe.mountError})` : 'no etc/os-release or usr/lib/os-release');
  }
  if (chosen === undefined) {
    throw new NoRootPartitionError(
      source,
      table.partitions.map((p) => (notes.has(p.index) ? `${describePartition(p)}: ${notes.get(p.index)}` : describePartition(p))),
    );
  }

  const { partition, location } = chosen;
  const label = `${source} partition ${partition.index}`;
  const producer = tarOfPartition(location, (exit) =>
    exit.code === MOUNT_FAILED_STATUS
      ? new InvalidDiskImageError(source, `partition ${partition.index} cannot be mounted by ${location.reader}: ${exit.lines.slice(0, 3).join(' / ')}`)
      : readFailure(source, exit),
  );
  const unpacked = await unpack(request, { stream: producer.stream, label, totalBytes: chosen.used });
  return {
    kind,
    ...counts(unpacked),
    warnings: [...unpacked.warnings, ...producer.warnings],
    partition: { table: table.table, index: partition.index, type: partition.type, start: partition.start, size: partition.size, filesystem: location.filesystem },
    reader: describeReader(location.reader, location.filesystem),
  };
}

function unpack(request: ExtractGuestRequest, archive: RootfsArchive): Promise<UnpackedRootfs> {
  return unpackRootfsArchive({
    ...archive,
    target: request.target,
    helperPath: request.helperPath,
    signal: request.signal,
    onProgress: (progress) => request.onProgress?.({ phase: 'copy', ...progress }),
    verifyTree: (tree) => requireLinuxRoot(request.source, tree),
  });
}

/* Kept deliberately coarse: the guest fix-ups look closer. Symlinks do not count, they could point anywhere. */
function requireLinuxRoot(source: string, tree: AdmittedTree): void {
  if (tree.kindOf('etc/os-release') === 'file' || tree.kindOf('usr/lib/os-release') === 'file') return;
  throw new NotARootFilesystemError(source, 'neither etc/os-release nor usr/lib/os-release is a regular file in it');
}

async function readFailure(source: string, exit: ProducerExit): Promise<Error> {
  const gone = await lstat(source).then(
    () => false,
    () => true,
  );
  if (gone) return new SourceDisappearedError(source, 'it no longer exists');
  const vanished = exit.lines.find((line) => VANISHED.test(line));
  if (vanished !== undefined) return new SourceDisappearedError(source, vanished);
  const detail = exit.lines.slice(0, 3).join(' / ') || `the reader stopped (${exit.signal ?? `exit status ${exit.code}`})`;
  return new SourceReadFailedError(source, detail);
}

function counts(unpacked: UnpackedRootfs) {
  return { entries: unpacked.entries - unpacked.dropped, bytesWritten: unpacked.bytesWritten };
}

async function assertAbsent(target: string): Promise<void> {
  const exists = await lstat(target).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  if (exists) throw new AlreadyExistsError(`Target ${target} already exists`);
}

/*
 * A private scratch directory (0700) with an empty mountpoint. Mounts only ever exist in the
 * readers' private namespaces, so here both are plain directories; they are removed one by one
 * (rmdir, never a recursive delete) so that a surprise can never delete through a mount.
 */
async function withScratch<T>(request: ExtractGuestRequest, work: (scratch: string) => Promise<T>): Promise<T> {
  const scratch = await mkdtemp(join(resolve(request.workDir ?? dirname(request.target)), '.berth-vm-source-'));
  try {
    await mkdir(join(scratch, 'mnt'), { mode: 0o700 });
    return await work(scratch);
  } finally {
    await rmdir(join(scratch, 'mnt')).catch(ignoreMissing);
    await rmdir(scratch);
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
