/**
 * Domain errors carry a stable code; the HTTP edge maps codes to statuses once
 * (apps/berthd/src/http/error.filter.ts). Nothing below the edge knows about HTTP.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
  }
}

/** A request field failed validation; `field` names it (e.g. `config["limits.cpu"]`). */
export class ValidationError extends DomainError {
  readonly code = 'REQUEST.INVALID';
  constructor(readonly field: string, reason: string) {
    super(`Invalid ${field}: ${reason}`, { field });
  }
}

export class MalformedRequestError extends DomainError {
  readonly code = 'REQUEST.MALFORMED';
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'REQUEST.TOO_LARGE';
}

export class NotFoundError extends DomainError {
  readonly code = 'RESOURCE.NOT_FOUND';
}

export class AlreadyExistsError extends DomainError {
  readonly code = 'RESOURCE.ALREADY_EXISTS';
}

export class PreconditionFailedError extends DomainError {
  readonly code = 'RESOURCE.PRECONDITION_FAILED';
}

export class ForbiddenError extends DomainError {
  readonly code = 'RESOURCE.FORBIDDEN';
}

export class InUseError extends DomainError {
  readonly code = 'RESOURCE.IN_USE';
}

export class BusyError extends DomainError {
  readonly code = 'RESOURCE.BUSY';
}

export class DatabaseUnavailableError extends DomainError {
  readonly code = 'DATABASE.UNAVAILABLE';
}
