import type { NextFunction, Request, Response } from 'express';
import { MalformedRequestError, PayloadTooLargeError } from '#core';

export const MAX_JSON_BODY = 1024 * 1024;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** JSON.parse that refuses keys able to pollute prototypes once merged into other objects. */
export function parseJson(text: string): unknown {
  return JSON.parse(text, (key, value) => {
    if (FORBIDDEN_KEYS.has(key)) throw new MalformedRequestError(`Invalid JSON body: the key "${key}" is not allowed`);
    return value;
  });
}

/**
 * Reads JSON request bodies (at most 1 MiB). Raw uploads (application/octet-stream, multipart)
 * are left on the stream for the handlers that take them.
 */
export function jsonBody(req: Request, _res: Response, next: NextFunction): void {
  const type = req.headers['content-type'] ?? '';
  if (/^(application\/octet-stream|multipart\/)/i.test(type) || ['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    next();
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_JSON_BODY) {
    req.resume();
    next(new PayloadTooLargeError(`Request body too large: ${declared} bytes (the limit is ${MAX_JSON_BODY})`));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > MAX_JSON_BODY) {
      failed = true;
      next(new PayloadTooLargeError(`Request body too large: over ${MAX_JSON_BODY} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (failed) return;
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') {
      req.body = undefined;
      next();
      return;
    }
    try {
      req.body = parseJson(text);
      next();
    } catch (err) {
      next(err instanceof MalformedRequestError ? err : new MalformedRequestError(`Invalid JSON body: ${(err as Error).message}`));
    }
  });
  req.on('error', (err) => {
    if (!failed) next(err);
    failed = true;
  });
}
