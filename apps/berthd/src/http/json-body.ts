import type { NextFunction, Request, Response } from 'express';
import { MalformedRequestError, PayloadTooLargeError } from '#core';

export const MAX_JSON_BODY = 1024 * 1024;
const DRAIN_LIMIT = 16 * MAX_JSON_BODY;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** JSON.parse that refuses keys able to pollute prototypes once merged into other objects. */
export function parseJson(text: string): unknown {
  return JSON.parse(text, (key, value) => {
    if (FORBIDDEN_KEYS.has(key)) throw new MalformedRequestError(`Invalid JSON body: the key "${key}" is not allowed`);
    return value;
  });
}

/** Instance file and template uploads: raw content whatever Content-Type the client sends (lxc 5.0 sends none that says so for files). */
const FILES_PATH = /^\/1\.0\/(instances|containers)\/[^/]+\/(files|metadata\/templates)(\?|$)/;

/** An image upload: LXD takes any body of POST /1.0/images not declared as JSON as the image itself. */
const IMAGES_PATH = /^\/1\.0\/images\/?(\?|$)/;

/**
 * Reads JSON request bodies (at most 1 MiB). Raw uploads (application/octet-stream, multipart,
 * recipes to build, instance files and templates, image uploads of any other type) are left on
 * the stream for the handlers that take them.
 */
export function jsonBody(req: Request, _res: Response, next: NextFunction): void {
  const type = req.headers['content-type'] ?? '';
  if (/^(application\/octet-stream|application\/x-berth-recipe|multipart\/)/i.test(type) || FILES_PATH.test(req.originalUrl ?? req.url) || (req.method === 'POST' && IMAGES_PATH.test(req.originalUrl ?? req.url) && !/^application\/json/i.test(type)) || ['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    next();
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = declared > MAX_JSON_BODY;
  if (declared > DRAIN_LIMIT) {
    next(new PayloadTooLargeError(`Request body too large: ${declared} bytes (the limit is ${MAX_JSON_BODY})`));
    return;
  }
  // An oversized body is still read to its end (up to DRAIN_LIMIT) before the 413 is sent, so the
  // client gets the answer instead of a broken pipe.
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > DRAIN_LIMIT) req.destroy();
    if (tooLarge || size > MAX_JSON_BODY) {
      tooLarge = true;
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  let failed = false;
  req.on('end', () => {
    if (tooLarge) {
      next(new PayloadTooLargeError(`Request body too large: ${Math.max(size, declared)} bytes (the limit is ${MAX_JSON_BODY})`));
      return;
    }
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
