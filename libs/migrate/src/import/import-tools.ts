import type { ExtractGuestProgress, ExtractedGuest, VmSourceKind } from '../sources/index.js';
import type { FixUpOptions, MigrationReport } from '../guest/index.js';
import type { ImportSource } from './import-source.js';

export type SourceKind = ExtractedGuest['kind'];

/** The token of the ImportTools provider. */
export const IMPORT_TOOLS = Symbol('IMPORT_TOOLS');

/**
 * What a VM import does to the host's files: behind a port, so that the import's steps and their
 * order can be checked without disks, archives or a machine to copy.
 */
export interface ImportTools {
  /** The kind of a source on this host (`declared` when the caller named it); a ValidationError on `source.path` when it cannot be read. */
  detect(path: string, declared?: VmSourceKind): Promise<VmSourceKind>;
  /** Reads the source into `target`, a directory that must not exist yet; `workDir` takes a disk image's scratch files. */
  read(
    source: ImportSource,
    kind: SourceKind,
    into: { target: string; workDir: string },
    options: { signal: AbortSignal; onProgress(progress: ExtractGuestProgress): void },
  ): Promise<ExtractedGuest>;
  /** Inspects the guest at `rootfs` and adapts it to run as a system container (only reports, with `dryRun`). */
  fixUp(rootfs: string, options: FixUpOptions): Promise<MigrationReport>;
  /** Runs `use` in a new scratch directory under BERTH_DIR (a dry run's), removed once it settles. */
  inScratch<T>(use: (dir: string) => Promise<T>): Promise<T>;
}
