import { DomainError } from '#core';

/** What a failed host command left for the reader: the command line, its exit status and stderr. */
export interface CommandFailureDetails {
  command: string;
  exitCode: number | null;
  stderr: string;
}

/**
 * Base of every storage error. When a host tool failed, `failure` names the command and carries
 * its stderr, so an operator can rerun it by hand.
 */
export abstract class StorageError extends DomainError {
  constructor(message: string, readonly failure?: CommandFailureDetails, details: Record<string, unknown> = {}) {
    super(failure ? `${message}: ${failure.command} failed: ${lastLine(failure.stderr) || `exit status ${failure.exitCode}`}` : message, {
      ...details,
      ...(failure && { command: failure.command, stderr: failure.stderr, exitCode: failure.exitCode }),
    });
  }
}

function lastLine(stderr: string): string {
  return stderr.trim().split('\n').at(-1)?.trim() ?? '';
}

export class InvalidStorageNameError extends StorageError {
  readonly code = 'STORAGE.INVALID_NAME';
}

export class InvalidPoolSizeError extends StorageError {
  readonly code = 'STORAGE.INVALID_SIZE';
}

export class StoragePoolExistsError extends StorageError {
  readonly code = 'STORAGE.POOL_EXISTS';
}

export class StoragePoolNotFoundError extends StorageError {
  readonly code = 'STORAGE.POOL_NOT_FOUND';
}

/** The pool could not be created or mounted, or is not mounted when a volume operation needs it. */
export class StoragePoolUnavailableError extends StorageError {
  readonly code = 'STORAGE.POOL_UNAVAILABLE';
}

/** The pool still holds volumes, or its mount is busy. */
export class StoragePoolInUseError extends StorageError {
  readonly code = 'STORAGE.POOL_IN_USE';
}

export class StorageVolumeExistsError extends StorageError {
  readonly code = 'STORAGE.VOLUME_EXISTS';
}

export class StorageVolumeNotFoundError extends StorageError {
  readonly code = 'STORAGE.VOLUME_NOT_FOUND';
}

/** The volume is in use (e.g. mounted by a running instance). */
export class StorageVolumeBusyError extends StorageError {
  readonly code = 'STORAGE.VOLUME_BUSY';
}

export class StorageNoSpaceError extends StorageError {
  readonly code = 'STORAGE.NO_SPACE';
}

/** A volume operation failed for a reason the other codes do not describe; `failure` says which. */
export class StorageOperationFailedError extends StorageError {
  readonly code = 'STORAGE.OPERATION_FAILED';
}

/**
 * An operation failed and undoing its first steps failed too: `leftovers` lists what is still on
 * the host (a loop device, a mount, a subvolume), `cause` is the original failure.
 */
export class StorageRollbackIncompleteError extends StorageError {
  readonly code = 'STORAGE.ROLLBACK_INCOMPLETE';
  constructor(override readonly cause: unknown, readonly leftovers: string[]) {
    super(`${cause instanceof Error ? cause.message : String(cause)}; rollback incomplete, left behind: ${leftovers.join('; ')}`, undefined, {
      leftovers,
      ...(cause instanceof DomainError && { cause: { code: (cause as DomainError).code, ...cause.details } }),
    });
  }
}

/** What Berth's storage does not do (custom volumes, extra pools): the client's request is fine, the feature is absent. */
export class StorageNotSupportedError extends StorageError {
  readonly code = 'STORAGE.NOT_SUPPORTED';
}
