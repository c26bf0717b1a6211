import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, isDatabaseUnavailable, type Logger } from '#core';
import { errorResponse } from './envelope.js';

/** The one table from domain error codes to HTTP statuses. */
const STATUS: Record<string, number> = {
  'REQUEST.INVALID': 400,
  'REQUEST.MALFORMED': 400,
  'REQUEST.TOO_LARGE': 413,
  'RESOURCE.NOT_FOUND': 404,
  'RESOURCE.ALREADY_EXISTS': 409,
  'RESOURCE.PRECONDITION_FAILED': 412,
  'RESOURCE.FORBIDDEN': 403,
  'RESOURCE.IN_USE': 400,
  'RESOURCE.BUSY': 409,
  'OPERATION.NOT_CANCELLABLE': 403,
  'INSTANCE.INVALID_STATE': 400,
  'INSTANCE.IDMAP_EXHAUSTED': 507,
  'INSTANCE.FREEZE_FAILED': 500,
  'QUOTA.ADMISSION_REFUSED': 400,
  'QUOTA.APPLY_FAILED': 500,
  'IMAGE.UNSAFE_ARCHIVE': 400,
  'IMAGE.ARCHIVE_LIMIT_EXCEEDED': 400,
  'IMAGE.CORRUPT_ARCHIVE': 400,
  'IMAGE.UNSUPPORTED_FORMAT': 400,
  'IMAGE.MALFORMED': 400,
  'IMAGE.INVALID_METADATA': 400,
  'IMAGE.FINGERPRINT_MISMATCH': 400,
  'IMAGE.EXTRACTION_FAILED': 500,
  'STORAGE.VOLUME_NOT_FOUND': 404,
  'STORAGE.POOL_NOT_FOUND': 404,
  'STORAGE.VOLUME_EXISTS': 409,
  'STORAGE.POOL_EXISTS': 409,
  'STORAGE.POOL_IN_USE': 409,
  'STORAGE.VOLUME_BUSY': 409,
  'STORAGE.INVALID_NAME': 400,
  'STORAGE.INVALID_SIZE': 400,
  'STORAGE.NO_SPACE': 507,
  'NETWORK.ALREADY_EXISTS': 409,
  'NETWORK.NOT_FOUND': 404,
  'NETWORK.SUBNET_IN_USE': 400,
  'NETWORK.NO_FREE_SUBNET': 507,
  'NETWORK.PROXY_FAILED': 400,
  'MIGRATE.SOURCE_NOT_FOUND': 400,
  'MIGRATE.SOURCE_UNREADABLE': 400,
  'MIGRATE.UNKNOWN_FORMAT': 400,
  'MIGRATE.INVALID_DISK_IMAGE': 400,
  'MIGRATE.UNSUPPORTED_DISK_IMAGE': 400,
  'MIGRATE.NO_ROOT_PARTITION': 400,
  'MIGRATE.NOT_A_ROOT_FILESYSTEM': 400,
  'MIGRATE.SOURCE_DISAPPEARED': 400,
  'MIGRATE.SOURCE_READ_FAILED': 500,
  'MIGRATE.NOT_LINUX': 400,
  'MIGRATE.UNSUPPORTED_INIT': 400,
  'MIGRATE.ARCHITECTURE_MISMATCH': 400,
  'DATABASE.UNAVAILABLE': 503,
};

export function toErrorResponse(err: unknown, req: Request, log: Logger) {
  if (err instanceof DomainError) {
    return { status: STATUS[err.code] ?? 400, body: errorResponse(STATUS[err.code] ?? 400, err.message, err.details ?? null) };
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
