import { AlreadyExistsError, ForbiddenError, InUseError, NotFoundError, PreconditionFailedError } from '#core';

export class ProfileNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`Profile not found: "${name}"`);
  }
}

export class ProfileAlreadyExistsError extends AlreadyExistsError {
  constructor(name: string) {
    super(`Profile "${name}" already exists`);
  }
}

export class DefaultProfileProtectedError extends ForbiddenError {
  constructor(action: string) {
    super(`The "default" profile cannot be ${action}`);
  }
}

export class ProfileInUseError extends InUseError {
  constructor(name: string, readonly usedBy: string[]) {
    super(`Profile "${name}" is currently in use by: ${usedBy.join(', ')}`, { used_by: usedBy });
  }
}

export class ProfileEtagMismatchError extends PreconditionFailedError {
  constructor(name: string) {
    super(`Profile "${name}" was changed since it was read (If-Match does not match the current ETag)`);
  }
}
