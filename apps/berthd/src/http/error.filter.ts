import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, isDatabaseUnavailable, type Logger } from '#core';
import { errorResponse } from './envelope.js';

/**
 * The one table from domain error codes to HTTP statuses, every code explicit (the spec beside
 * this file fails when a DomainError declares a code that is not here). A 4xx says the client can
 * change its request; a failure of the host (a command, a syscall, a helper) is a 500, whatever
 * the request was.
 */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  // The request itself: fix it and send it again.
  'REQUEST.INVALID': 400,
  'REQUEST.MALFORMED': 400,
  'REQUEST.TOO_LARGE': 413,
  'STORAGE.INVALID_NAME': 400,
  'STORAGE.INVALID_SIZE': 400,
  'RUNTIME.INVALID_SPEC': 400,
  'IMAGE.UNSAFE_ARCHIVE': 400,
  'IMAGE.ARCHIVE_LIMIT_EXCEEDED': 400,
  'IMAGE.CORRUPT_ARCHIVE': 400,
  'IMAGE.UNSUPPORTED_FORMAT': 400,
  'IMAGE.MALFORMED': 400,
  'IMAGE.INVALID_METADATA': 400,
  'IMAGE.FINGERPRINT_MISMATCH': 400,
  'IMAGE.INVALID_RECIPE': 400,
  'MIGRATE.SOURCE_NOT_FOUND': 400,
  'MIGRATE.SOURCE_UNREADABLE': 400,
  'MIGRATE.UNKNOWN_FORMAT': 400,
  'MIGRATE.INVALID_DISK_IMAGE': 400,
  'MIGRATE.UNSUPPORTED_DISK_IMAGE': 400,
  'MIGRATE.NO_ROOT_PARTITION': 400,
  'MIGRATE.NOT_A_ROOT_FILESYSTEM': 400,
  'MIGRATE.SOURCE_DISAPPEARED': 400,
  'MIGRATE.NOT_LINUX': 400,
  'MIGRATE.UNSUPPORTED_INIT': 400,
  'MIGRATE.ARCHITECTURE_MISMATCH': 400,
  // Not possible in the current state of the thing or the host; LXD answers 400.
  'RESOURCE.IN_USE': 400,
  'INSTANCE.INVALID_STATE': 400,
  'INSTANCE.DEVICE_FAILED': 400,
  'RUNTIME.ALREADY_RUNNING': 400,
  'RUNTIME.NOT_RUNNING': 400,
  'IMAGE.PUBLISH_REFUSED': 400,
  'QUOTA.ADMISSION_REFUSED': 400,
  'NETWORK.SUBNET_IN_USE': 400,
  'NETWORK.PROXY_FAILED': 400,
  'STORAGE.NOT_SUPPORTED': 400,
  'RESOURCE.FORBIDDEN': 403,
  'OPERATION.NOT_CANCELLABLE': 403,
  'RESOURCE.NOT_FOUND': 404,
  'STORAGE.POOL_NOT_FOUND': 404,
  'STORAGE.VOLUME_NOT_FOUND': 404,
  'NETWORK.NOT_FOUND': 404,
  // Conflicts: the name is taken, or someone else holds the thing right now.
  'RESOURCE.ALREADY_EXISTS': 409,
  'RESOURCE.BUSY': 409,
  'STORAGE.POOL_EXISTS': 409,
  'STORAGE.VOLUME_EXISTS': 409,
  'STORAGE.POOL_IN_USE': 409,
  'STORAGE.VOLUME_BUSY': 409,
  'NETWORK.ALREADY_EXISTS': 409,
  'NETWORK.NIC_ALREADY_EXISTS': 409,
  'RESOURCE.PRECONDITION_FAILED': 412,
  // The host is out of something the request needs.
  'STORAGE.NO_SPACE': 507,
  'INSTANCE.IDMAP_EXHAUSTED': 507,
  'NETWORK.NO_FREE_SUBNET': 507,
  // Failures of the host: the request was fine.
  'RUNTIME.SYSCALL_FAILED': 500,
  'RUNTIME.LIMIT_REFUSED': 500,
  'INSTANCE.FREEZE_FAILED': 500,
  'QUOTA.APPLY_FAILED': 500,
  'IMAGE.EXTRACTION_FAILED': 500,
  'IMAGE.RECIPE_BUILD_FAILED': 500,
  'STORAGE.POOL_UNAVAILABLE': 500,
  'STORAGE.OPERATION_FAILED': 500,
  'STORAGE.ROLLBACK_INCOMPLETE': 500,
  'NETWORK.COMMAND_FAILED': 500,
  'NETWORK.DNSMASQ_FAILED': 500,
  'NETWORK.STATE_DIR_UNREADABLE': 500,
  'MIGRATE.SOURCE_READ_FAILED': 500,
  'DATABASE.UNAVAILABLE': 503,
};

export function toErrorResponse(err: unknown, req: Request, log: Logger) {
  if (err instanceof DomainError) {
    const status = ERROR_STATUS[err.code];
    if (status === undefined) log.error({ reqId: req.id, code: err.code, err: err.message }, 'an error code without an HTTP status: answered 500');
    else if (status >= 500) log.error({ reqId: req.id, code: err.code, err: { message: err.message, stack: err.stack }, details: err.details }, 'host failure');
    return { status: status ?? 500, body: errorResponse(status ?? 500, err.message, err.details ?? null) };
  }
  if (isDatabaseUnavailable(err)) {
    log.warn({ reqId: req.id, err: (err as Error).message }, 'database unavailable');
    return { status: 503, body: errorResponse(503, 'The database is unavailable; try again shortly') };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const message = status === 404 ? 'not found' : status === 405 ? 'method not allowed' : err.message;
    return { status, body: errorResponse(status, message) };
  }
  log.error({ reqId: req.id, err: err instanceof Error ? { message: err.message, stack: err.stack } : err }, 'unexpected error');
  return { status: 500, body: errorResponse(500, `Internal error (request ${req.id})`) };
}

@Catch()
export class LxdErrorFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { status, body } = toErrorResponse(err, req, this.log);
    if (!res.headersSent) res.status(status).json(body);
  }
}
