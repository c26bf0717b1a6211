import { DomainError } from '#core';

/** A VM source Berth cannot read into a root filesystem; `source` is the path as given. */
export abstract class MigrationSourceError extends DomainError {
  constructor(
    readonly source: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, { source, ...details });
  }
}

export class SourceNotFoundError extends MigrationSourceError {
  readonly code = 'MIGRATE.SOURCE_NOT_FOUND';
  constructor(source: string) {
    super(source, `VM source ${source} does not exist`);
  }
}

/** The source exists but cannot be opened or read (permissions, I/O error); `errno` says why. */
export class SourceUnreadableError extends MigrationSourceError {
  readonly code = 'MIGRATE.SOURCE_UNREADABLE';
  constructor(source: string, readonly errno: string) {
    super(source, `VM source ${source} cannot be read (${errno})`, { errno });
  }
}

/** Neither a directory, a tarball, a qcow2 image nor a raw disk with a partition table. */
export class UnknownSourceFormatError extends MigrationSourceError {
  readonly code = 'MIGRATE.UNKNOWN_FORMAT';
  constructor(source: string, reason: string) {
    super(source, `VM source ${source} is not a format Berth reads: ${reason}`);
  }
}

/** A disk image whose partition table, qcow2 structure or filesystem is damaged or inconsistent. */
export class InvalidDiskImageError extends MigrationSourceError {
  readonly code = 'MIGRATE.INVALID_DISK_IMAGE';
  constructor(source: string, readonly reason: string) {
    super(source, `Disk image ${source} is invalid: ${reason}`);
  }
}

/** A well-formed disk image that Berth refuses to read: a backing file, an external data file, encryption. */
export class UnsupportedDiskImageError extends MigrationSourceError {
  readonly code = 'MIGRATE.UNSUPPORTED_DISK_IMAGE';
  constructor(source: string, readonly reason: string) {
    super(source, `Disk image ${source} is not supported: ${reason}`);
  }
}

/** No partition of the disk holds a Linux root filesystem; `partitions` describes every one found. */
export class NoRootPartitionError extends MigrationSourceError {
  readonly code = 'MIGRATE.NO_ROOT_PARTITION';
  constructor(source: string, readonly partitions: readonly string[]) {
    super(source, `Disk image ${source} has no Linux root partition (found: ${partitions.length === 0 ? 'no partitions' : partitions.join('; ')})`, { partitions });
  }
}

/** The tree read from the source does not look like a Linux root (no etc/os-release or usr/lib/os-release). */
export class NotARootFilesystemError extends MigrationSourceError {
  readonly code = 'MIGRATE.NOT_A_ROOT_FILESYSTEM';
  constructor(source: string, reason: string) {
    super(source, `VM source ${source} is not a Linux root filesystem: ${reason}`);
  }
}

/** The source vanished or changed under us while it was read: the copy would be inconsistent. */
export class SourceDisappearedError extends MigrationSourceError {
  readonly code = 'MIGRATE.SOURCE_DISAPPEARED';
  constructor(source: string, detail: string) {
    super(source, `VM source ${source} disappeared or changed while it was read: ${detail}`);
  }
}

/** Reading the source's tree failed (an I/O error, a filesystem the reader cannot walk). */
export class SourceReadFailedError extends MigrationSourceError {
  readonly code = 'MIGRATE.SOURCE_READ_FAILED';
  constructor(source: string, detail: string) {
    super(source, `Reading VM source ${source} failed: ${detail}`);
  }
}
