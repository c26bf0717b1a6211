import { DomainError, NotFoundError } from '#core';

export class OperationNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`Operation not found: ${id}`);
  }
}

export class OperationNotCancellableError extends DomainError {
  readonly code = 'OPERATION.NOT_CANCELLABLE';
  constructor(id: string, why: string) {
    super(`Operation ${id} cannot be cancelled: ${why}`);
  }
}

/** Raised inside a running operation when it has been cancelled. */
export class OperationCancelledError extends Error {
  constructor() {
    super('Operation cancelled');
  }
}

/** A websocket operation's client did not connect its sockets in time. */
export class WebsocketTimeoutError extends Error {
  constructor() {
    super('Timed out waiting for websockets to connect');
  }
}
