import { StorageNoSpaceError } from '#storage';
import { ImageExtractionFailedError } from '../domain/image.errors.js';

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/** True when `err` says a filesystem ran out of space or quota, from berth-unpack or from Node. */
export function isNoSpace(err: unknown): boolean {
  if (err instanceof ImageExtractionFailedError) return NO_SPACE.has(err.errno);
  return err instanceof Error && NO_SPACE.has((err as NodeJS.ErrnoException).code ?? '');
}

/**
 * STORAGE.NO_SPACE (507) for a write that ran out of space, saying what Berth was doing and which
 * call failed; any other error is returned unchanged.
 */
export function asNoSpaceError(err: unknown, doing: string): unknown {
  if (!isNoSpace(err)) return err;
  if (err instanceof ImageExtractionFailedError) {
    return new StorageNoSpaceError(`${doing}: ${err.syscall}(2) failed with ${err.errno} on ${JSON.stringify(err.path)}`, undefined, {
      syscall: err.syscall,
      errno: err.errno,
      path: err.path,
    });
  }
  const e = err as NodeJS.ErrnoException;
  return new StorageNoSpaceError(`${doing}: ${e.syscall ?? 'write'}(2) failed with ${e.code}`, undefined, { syscall: e.syscall ?? 'write', errno: e.code });
}
