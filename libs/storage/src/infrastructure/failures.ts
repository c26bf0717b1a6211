import {
  StorageError,
  StorageNoSpaceError,
  StorageOperationFailedError,
  StoragePoolInUseError,
  StoragePoolUnavailableError,
  StorageVolumeBusyError,
  type CommandFailureDetails,
} from '../domain/storage.errors.js';
import { CommandFailure } from './command-runner.js';

/**
 * Turns what a host tool or a filesystem call threw into a typed storage error. Storage errors
 * pass through unchanged, so a step deep inside an operation keeps its own, more precise code.
 */
export function asPoolError(message: string, error: unknown, details: Record<string, unknown>): unknown {
  if (error instanceof StorageError) return error;
  const failure = failureOf(error);
  if (!failure) return error;
  if (/target is busy|Device or resource busy|EBUSY/.test(failure.stderr)) return new StoragePoolInUseError(message, failure, details);
  return new StoragePoolUnavailableError(message, failure, details);
}

export function asVolumeError(message: string, error: unknown, details: Record<string, unknown>): unknown {
  if (error instanceof StorageError) return error;
  const failure = failureOf(error);
  if (!failure) return error;
  if (/No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/.test(failure.stderr)) return new StorageNoSpaceError(message, failure, details);
  if (/Device or resource busy|EBUSY/.test(failure.stderr)) return new StorageVolumeBusyError(message, failure, details);
  return new StorageOperationFailedError(message, failure, details);
}

/** A failed command, or a failed filesystem call described as the command it stands for. */
function failureOf(error: unknown): CommandFailureDetails | undefined {
  if (error instanceof CommandFailure) return error.details;
  const errno = error as NodeJS.ErrnoException;
  if (error instanceof Error && typeof errno.code === 'string' && errno.syscall) {
    return { command: `${errno.syscall}(2) ${errno.path ?? ''}`.trim(), exitCode: null, stderr: `${errno.code}: ${error.message}` };
  }
  return undefined;
}
