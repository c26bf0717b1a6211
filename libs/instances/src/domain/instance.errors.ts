import { AlreadyExistsError, BusyError, DomainError, NotFoundError, PreconditionFailedError } from '#core';

export class InstanceNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`Instance not found: "${name}"`);
  }
}

export class InstanceAlreadyExistsError extends AlreadyExistsError {
  constructor(name: string) {
    super(`Instance "${name}" already exists`);
  }
}

export class InstanceBusyError extends BusyError {
  constructor(name: string) {
    super(`Instance "${name}" is busy with another operation`);
  }
}

/** A process that owns the instance for now (a VM import filling its volume) holds it: it cannot be started, renamed or changed. */
export class InstanceHeldError extends BusyError {
  constructor(name: string, reason: string) {
    super(`Instance "${name}" is held: ${reason}`);
  }
}

export class InstanceEtagMismatchError extends PreconditionFailedError {
  constructor(name: string) {
    super(`Instance "${name}" was changed since it was read (If-Match does not match the current ETag)`);
  }
}

/** The action is not possible in the instance's current state (LXD answers 400). */
export class InstanceStateError extends DomainError {
  readonly code = 'INSTANCE.INVALID_STATE';
}

/** Every id range of the host's allocation is in use. */
export class IdRangeExhaustedError extends DomainError {
  readonly code = 'INSTANCE.IDMAP_EXHAUSTED';
  constructor(first: number, total: number, size: number) {
    super(`No free range of ${size} ids is left in ${first}-${first + total - 1} for an unprivileged container`);
  }
}
