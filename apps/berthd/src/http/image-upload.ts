import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { header } from './params.js';
import { PassThrough, type Readable } from 'node:stream';
import { MalformedRequestError, ValidationError } from '#core';
import { validateAliasName, validateProperties, type BuildImageOptions, type ImportOptions, type UploadLayout } from '#images';

/* RFC 2046 §5.1.1: 1 to 70 of these, not ending with a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;


function urlDecoded(field: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ValidationError(field, 'is not URL-encoded');
  }
}

/**
 * An image upload's Content-Type: multipart/form-data (a split image) with its boundary, or
 * anything else, read as one raw tarball.
 */
export function uploadLayout(contentType: string | undefined): UploadLayout {
  if (!/^multipart\/form-data\s*(;|$)/i.test(contentType ?? '')) return { kind: 'raw' };
  const match = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2] ?? '';
  if (boundary === '') throw new MalformedRequestError('Invalid multipart body: Multipart: Boundary not found');
  if (!BOUNDARY.test(boundary)) throw new MalformedRequestError('Invalid multipart body: the boundary is not one RFC 2046 allows');
  return { kind: 'multipart', boundary };
}

/** LXD's upload headers: X-LXD-fingerprint, -public, -filename, -properties (url-encoded), -aliases. */
export function importOptions(headers: IncomingHttpHeaders): ImportOptions {
  const fingerprint = header(headers, 'x-lxd-fingerprint');
  if (fingerprint !== undefined && !/^[0-9a-f]{64}$/.test(fingerprint)) throw new ValidationError('X-LXD-fingerprint', 'must be a sha256 in lowercase hex');
  const pub = header(headers, 'x-lxd-public');
  if (pub !== undefined && !/^(true|false|1|0)$/.test(pub)) throw new ValidationError('X-LXD-public', 'must be true or false');
  const filename = header(headers, 'x-lxd-filename') ?? '';
  if (/[\u0000-\u001f/\\]/.test(filename) || filename.length > 255) throw new ValidationError('X-LXD-filename', 'must be a plain file name');
  const properties = validateProperties(Object.fromEntries(new URLSearchParams(header(headers, 'x-lxd-properties') ?? '')), 'X-LXD-properties');
  const aliasHeader = header(headers, 'x-lxd-aliases');
  const aliases = aliasHeader ? aliasHeader.split(',').map((a, i) => validateAliasName(`X-LXD-aliases[${i}]`, urlDecoded(`X-LXD-aliases[${i}]`, a.trim()))) : [];
  if (new Set(aliases).size !== aliases.length) throw new ValidationError('X-LXD-aliases', 'lists an alias twice');
  return { expectedFingerprint: fingerprint, public: pub === 'true' || pub === '1', filename, properties, aliases: aliases.map((name) => ({ name, description: '' })) };
}

/** application/x-berth-recipe, Berth's extension: a tar of recipes to build an image from (`berth image build`). */
export function isRecipeUpload(contentType: string | undefined): boolean {
  return /^application\/x-berth-recipe\s*(;|$)/i.test(contentType ?? '');
}

/**
 * A recipe upload's headers: X-Berth-Recipe (required), the URL-encoded absolute path of the
 * recipe to build (its directory or its file) in the tar, whose names are the client's paths
 * without the leading `/`; and LXD's X-LXD-public, -filename, -properties and -aliases, as for an
 * image upload.
 */
export function buildOptions(headers: IncomingHttpHeaders): BuildImageOptions {
  const named = header(headers, 'x-berth-recipe');
  if (named === undefined || named === '') throw new ValidationError('X-Berth-Recipe', 'is required: the URL-encoded path of the recipe in the upload');
  const recipe = urlDecoded('X-Berth-Recipe', named);
  if (!recipe.startsWith('/') || recipe === '/' || recipe.includes('\0') || recipe.split('/').slice(1).some((part) => part === '' || part === '.' || part === '..')) {
    throw new ValidationError('X-Berth-Recipe', `${JSON.stringify(recipe)} must be an absolute path without ., .. or //`);
  }
  if (header(headers, 'x-lxd-fingerprint') !== undefined) throw new ValidationError('X-LXD-fingerprint', 'does not apply to a recipe build');
  const { expectedFingerprint: _none, ...options } = importOptions(headers);
  return { ...options, recipe };
}

/**
 * The request body as a stream that its reader may destroy (a refused upload) without destroying
 * the request: the rest of the body is then read and dropped, so the connection survives to carry
 * the error. An interrupted request destroys the stream with an error.
 */
export function uploadBody(req: IncomingMessage): Readable {
  const body = new PassThrough();
  // Until its reader starts (after a mkdir or two), an error must not be an unhandled 'error'
  // event, which would end the daemon; the reader finds it on the stream (readable.errored).
  body.on('error', () => undefined);
  req.pipe(body);
  req.on('error', (err) => body.destroy(err));
  req.on('close', () => {
    if (!req.readableEnded) body.destroy(new Error('the upload was interrupted'));
  });
  body.on('close', () => {
    if (req.readableEnded) return;
    req.unpipe(body);
    req.resume();
  });
  return body;
}
