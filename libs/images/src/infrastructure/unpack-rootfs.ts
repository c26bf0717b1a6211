import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline, type Readable, Transform } from 'node:stream';
import type { PlannedEntry } from '../domain/archive-entry.js';
import { DEFAULT_EXTRACTION_LIMITS, type ExtractionLimits, resolveExtractionLimits } from '../domain/extraction-limits.js';
import { type AdmittedKind, ImageLayoutPolicy } from '../domain/image-layout-policy.js';
import { ByteBudget, type Compression, openArchive } from './decompression.js';
import { extractArchiveEntries, type ExtractionSession, progressReporter, type UnpackProgress, withUnpackHelper } from './unpack-image.js';
import { type IdShift, locateUnpackHelper } from './unpack-helper.js';
import { encodeDirectoryTimesRecord } from './unpack-records.js';

/**
 * Caps for a whole machine's root filesystem rather than an image: a VM's root is often several
 * GiB and 100k-1M entries. The policy keeps a few hundred bytes per entry, so 3M entries stay
 * under 1 GB of bookkeeping.
 */
export const ROOTFS_EXTRACTION_LIMITS: ExtractionLimits = Object.freeze({
  ...DEFAULT_EXTRACTION_LIMITS,
  maxTotalBytes: 1024 ** 4,
  maxEntries: 3_000_000,
});

export type { AdmittedKind };

/** The tree as admitted so far, for a caller's check of what the archive held. */
export interface AdmittedTree {
  /** The kind `path` (relative to the root, e.g. "etc/os-release") was admitted as; undefined if absent. */
  kindOf(path: string): AdmittedKind | undefined;
}

/** Where the tar comes from: a tarball on disk (gzip, xz, zstd or plain), or a stream of plain tar. */
export type RootfsArchive =
  | { readonly path: string }
  | {
      readonly stream: Readable;
      /** Names the stream in errors (e.g. the source directory). */
      readonly label: string;
      /** Expected bytes of the stream, for progress; 0 when unknown. */
      readonly totalBytes?: number;
    };

export type UnpackRootfsRequest = RootfsArchive & {
  /** Absolute path of the directory to create; it must not exist. The archive's root becomes this directory. */
  readonly target: string;
  /** The id mapping to write owners with; identity (any id below 2^32 - 1) when absent. */
  readonly idShift?: IdShift;
  /** Create device nodes and FIFOs; otherwise they are dropped with a warning. */
  readonly privileged?: boolean;
  /** Overrides of ROOTFS_EXTRACTION_LIMITS. */
  readonly limits?: Partial<ExtractionLimits>;
  readonly helperPath?: string;
  readonly signal?: AbortSignal;
  /** Called at most every 250 ms while unpacking, and once at the end. */
  readonly onProgress?: (progress: UnpackProgress) => void;
  /**
   * Called once every entry was admitted and before the extraction is confirmed: throwing here
   * fails the extraction and removes the target like any other error.
   */
  readonly verifyTree?: (tree: AdmittedTree) => void;
};

export interface UnpackedRootfs {
  /** 'none' for a stream. */
  readonly compression: Compression;
  /** sha256 of the tarball's bytes as read; undefined for a stream. */
  readonly sha256?: string;
  /** Bytes read from the tarball (compressed) or the stream. */
  readonly bytesRead: number;
  /** Entries handled, the dropped ones included. */
  readonly entries: number;
  /** Entries not written (device nodes and FIFOs of an unprivileged target). */
  readonly dropped: number;
  /** Bytes of regular-file content written. */
  readonly bytesWritten: number;
  /** Entries or attributes dropped on the way (devices when unprivileged, xattrs outside the allow-list, ACLs), repetitions counted. */
  readonly warnings: readonly string[];
}

/**
 * Unpacks a root filesystem tarball directly into `target` (not under target/rootfs/), through the
 * same pipeline as image imports: tar-stream, the layout policy in its 'tree' role and berth-unpack
 * writing relative to the target with RESOLVE_IN_ROOT. Symlinks are stored verbatim and never
 * followed; hardlinks, owners, modes, times and allow-listed xattrs are kept. On any failure or
 * abort the target is removed again; a target that already exists is refused and left alone.
 */
export async function unpackRootfsArchive(request: UnpackRootfsRequest): Promise<UnpackedRootfs> {
  const limits = resolveExtractionLimits({ ...ROOTFS_EXTRACTION_LIMITS, ...request.limits });
  const helperPath = locateUnpackHelper(request.helperPath);
  const totalBytes = 'path' in request ? (await stat(request.path)).size : (request.totalBytes ?? 0);
  const progress = progressReporter(request.onProgress, totalBytes);

  return withUnpackHelper({ ...request, helperPath, failure: 'Root filesystem extraction' }, async (helper) => {
    const policy = new ImageLayoutPolicy(limits, request.idShift?.range ?? 0xffffffff);
    const budget = new ByteBudget(limits.maxTotalBytes);
    const session: ExtractionSession = { helper, policy, limits, progress, warnings: [], signal: request.signal };
    let compression: Compression = 'none';
    let sha256: string | undefined;
    if ('path' in request) {
      const hash = createHash('sha256');
      const archive = await openArchive(request.path, hash, budget, progress.read);
      compression = archive.compression;
      await extractArchiveEntries(session, archive.stream, request.path, 'tree');
      sha256 = hash.digest('hex');
    } else {
      await extractArchiveEntries(session, counted(request.stream, budget, progress.read), request.label, 'tree');
    }
    request.verifyTree?.(policy);

    for (const times of policy.finish('tree')) await helper.write(encodeDirectoryTimesRecord(times));
    const summary = await helper.finish();
    await applyRootAttributes(request.target, session.root, request.idShift);
    progress.done();
    return {
      compression,
      sha256,
      bytesRead: progress.bytesRead(),
      entries: summary.entries,
      dropped: summary.dropped,
      bytesWritten: summary.bytes,
      warnings: summarizeWarnings([...session.warnings, ...helper.warnings]),
    };
  });
}

const WARNINGS_KEPT_PER_KIND = 10;

/*
 * A whole machine repeats itself: security.selinux or an ACL on every file of a RHEL guest would
 * make hundreds of thousands of lines. Each kind ("dropped xattr security.selinux") keeps its
 * first lines and then one line that counts the rest.
 */
function summarizeWarnings(warnings: readonly string[]): string[] {
  const kept: string[] = [];
  const counts = new Map<string, number>();
  for (const warning of warnings) {
    const at = warning.lastIndexOf(': dropped ');
    const kind = at < 0 ? warning : warning.slice(at + 2);
    const count = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, count);
    if (count <= WARNINGS_KEPT_PER_KIND) kept.push(warning);
  }
  for (const [kind, count] of counts) {
    if (count > WARNINGS_KEPT_PER_KIND) kept.push(`${kind}: ${count - WARNINGS_KEPT_PER_KIND} more entries like the above`);
  }
  return kept;
}

/** Counts the stream's bytes against the budget and for progress; errors and destruction propagate both ways. */
function counted(stream: Readable, budget: ByteBudget, onRead: (bytes: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        budget.take(chunk.length);
        onRead(chunk.length);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  return pipeline(stream, counter, () => {});
}

/*
 * berth-unpack creates the target 0700 root:root and never writes the root itself; the archive's
 * "./" entry says what it should be (a rootfs without one gets 0755 root:root). Applied through a
 * descriptor of the directory the helper created (O_NOFOLLOW), after everything inside it was
 * written, so that its mtime is the archive's.
 */
async function applyRootAttributes(target: string, root: PlannedEntry | undefined, idShift: IdShift | undefined): Promise<void> {
  const handle = await open(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.chown((root?.uid ?? 0) + (idShift?.uidShift ?? 0), (root?.gid ?? 0) + (idShift?.gidShift ?? 0));
    await handle.chmod(root?.mode ?? 0o755);
    if (root !== undefined) {
      const mtime = root.mtime.seconds + root.mtime.nanoseconds / 1e9;
      await handle.utimes(mtime, mtime);
    }
  } finally {
    await handle.close();
  }
}
