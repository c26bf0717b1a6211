import { DomainError } from '#core';

/**
 * An archive entry that Berth refuses to write: a name escaping the root, a link to something
 * that is not a regular file of the tree, a duplicate, an entry through a symlink, an entry type
 * or PAX keyword we do not support. `entry` is the name as found in the archive.
 */
export class UnsafeArchiveError extends DomainError {
  readonly code = 'IMAGE.UNSAFE_ARCHIVE';
  constructor(readonly entry: string, readonly reason: string) {
    super(`Unsafe archive entry ${JSON.stringify(entry)}: ${reason}`, { entry, reason });
  }
}

/** A cap on entries, bytes, names or headers was reached: the archive is refused, not truncated. */
export class ArchiveLimitExceededError extends DomainError {
  readonly code = 'IMAGE.ARCHIVE_LIMIT_EXCEEDED';
  constructor(readonly limit: string, readonly max: number, readonly entry?: string) {
    super(`Archive exceeds ${limit} (${max})${entry === undefined ? '' : ` at entry ${JSON.stringify(entry)}`}`, {
      limit,
      max,
      ...(entry === undefined ? {} : { entry }),
    });
  }
}

/** The compressed stream or the tar structure is damaged or truncated. */
export class CorruptArchiveError extends DomainError {
  readonly code = 'IMAGE.CORRUPT_ARCHIVE';
  constructor(readonly file: string, reason: string) {
    super(`Corrupt archive ${file}: ${reason}`, { file });
  }
}

/** Not a tarball Berth reads (bzip2, squashfs, unknown bytes). */
export class UnsupportedImageFormatError extends DomainError {
  readonly code = 'IMAGE.UNSUPPORTED_FORMAT';
}

/** A well-formed archive that is not an LXD image: metadata.yaml or rootfs/ missing. */
export class MalformedImageError extends DomainError {
  readonly code = 'IMAGE.MALFORMED';
}

/** metadata.yaml is present but a field is missing or of the wrong type; `field` names it. */
export class InvalidImageMetadataError extends DomainError {
  readonly code = 'IMAGE.INVALID_METADATA';
  constructor(readonly field: string, reason: string) {
    super(`Invalid metadata.yaml field ${field}: ${reason}`, { field });
  }
}

export class FingerprintMismatchError extends DomainError {
  readonly code = 'IMAGE.FINGERPRINT_MISMATCH';
  constructor(readonly expected: string, readonly actual: string) {
    super(`Image fingerprint is ${actual}, expected ${expected}`, { expected, actual });
  }
}

/** The host failed the extraction (ENOSPC, EIO, ...): carries the syscall and errno name. */
export class ImageExtractionFailedError extends DomainError {
  readonly code = 'IMAGE.EXTRACTION_FAILED';
  constructor(readonly syscall: string, readonly errno: string, readonly path: string) {
    super(`Image extraction failed: ${syscall}(2) failed with ${errno} on ${JSON.stringify(path)}`, { syscall, errno, path });
  }
}

/** An instance cannot be published as it is (running, in the middle of an ownership shift, changing). */
export class ImagePublishError extends DomainError {
  readonly code = 'IMAGE.PUBLISH_REFUSED';
}

/** An image recipe (images/<name>/recipe.yaml) that cannot be built as written. */
export class InvalidRecipeError extends DomainError {
  readonly code = 'IMAGE.INVALID_RECIPE';
  constructor(readonly file: string, readonly field: string, readonly reason: string) {
    super(`${file}: ${field}: ${reason}`, { file, field });
  }
}

/** A step of a recipe's build failed: debootstrap, apt, a file, a unit or a command. */
export class RecipeBuildError extends DomainError {
  readonly code = 'IMAGE.RECIPE_BUILD_FAILED';
  constructor(readonly recipe: string, readonly step: string, readonly reason: string) {
    super(`Building ${recipe} failed at ${step}: ${reason}`, { recipe, step });
  }
}
