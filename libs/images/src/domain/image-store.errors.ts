import { AlreadyExistsError, BusyError, NotFoundError, ValidationError } from '#core';

export class ImageNotFoundError extends NotFoundError {
  constructor(reference: string) {
    super(`Image not found: "${reference}"`);
  }
}

export class ImageAlreadyExistsError extends AlreadyExistsError {
  constructor(fingerprint: string) {
    super(`Image with fingerprint ${fingerprint} already exists`);
  }
}

export class AmbiguousFingerprintError extends ValidationError {
  constructor(prefix: string, count: number) {
    super('fingerprint', `prefix "${prefix}" matches ${count} images`);
  }
}

export class AliasNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`Image alias not found: "${name}"`);
  }
}

export class AliasAlreadyExistsError extends AlreadyExistsError {
  constructor(name: string) {
    super(`Image alias "${name}" already exists`);
  }
}

/** Another import of the same image is filling its volume in this daemon. */
export class ImageImportInProgressError extends BusyError {
  constructor(fingerprint: string) {
    super(`Image with fingerprint ${fingerprint} is already being imported`);
  }
}
