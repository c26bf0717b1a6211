import type { Timestamp } from '../domain/archive-entry.js';
import { UnsafeArchiveError } from '../domain/image.errors.js';

/**
 * What a per-entry PAX extended header (typeflag 'x') says, read from its raw bytes. tar-stream
 * decodes PAX values as UTF-8 text, which destroys binary xattr values such as
 * security.capability; we parse the same bytes ourselves, strictly.
 */
export interface PaxAttributes {
  readonly path?: string;
  readonly linkpath?: string;
  readonly size?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: Timestamp;
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /** Keywords that were understood but deliberately not applied (POSIX ACLs). */
  readonly ignored: readonly string[];
}

/* Keywords that carry nothing we apply and nothing that changes how the archive is read. */
const INERT_KEYWORDS = new Set([
  'uname',
  'gname',
  'atime',
  'ctime',
  'comment',
  'charset',
  'SCHILY.dev',
  'SCHILY.ino',
  'SCHILY.nlink',
  'SCHILY.fflags',
  'LIBARCHIVE.creationtime',
]);
const ACL_KEYWORDS = new Set(['SCHILY.acl.access', 'SCHILY.acl.default', 'SCHILY.acl.ace']);
const UTF8_HDRCHARSET = 'ISO-IR 10646 2000 UTF-8';

/**
 * Splits a PAX header body into its "LEN KEY=VALUE\n" records. Anything malformed, a duplicate
 * keyword included, is refused: tar-stream would silently stop or take the last one, and two
 * readers of one header must never disagree.
 */
export function parsePaxRecords(body: Buffer, entry: string): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  const malformed = (why: string): never => {
    throw new UnsafeArchiveError(entry, `malformed PAX header: ${why}`);
  };
  let offset = 0;
  // A PAX body is padded to the block size by the header's own size field; tar-stream hands us
  // exactly `size` bytes, but writers may still end with NULs.
  while (offset < body.length && body[offset] !== 0) {
    const space = body.indexOf(0x20, offset);
    if (space < 0 || space - offset > 10) malformed('record length is missing');
    const lengthText = body.toString('latin1', offset, space);
    if (!/^[1-9][0-9]*$/.test(lengthText)) malformed(`bad record length ${JSON.stringify(lengthText)}`);
    const end = offset + Number(lengthText);
    if (end > body.length || end <= space + 1 || body[end - 1] !== 0x0a) malformed('record length does not match its content');
    const equals = body.indexOf(0x3d, space + 1);
    if (equals < 0 || equals >= end - 1 || equals === space + 1) malformed('record has no keyword');
    const keyBytes = body.subarray(space + 1, equals);
    const key = keyBytes.toString('utf8');
    if (key.includes('\uFFFD') || key.includes('\0')) malformed('keyword is not valid UTF-8');
    if (records.has(key)) malformed(`duplicate keyword ${key}`);
    records.set(key, Buffer.from(body.subarray(equals + 1, end - 1)));
    offset = end;
  }
  if (body.subarray(offset).some((byte) => byte !== 0)) malformed('data after the NUL padding');
  return records;
}

/** Interprets per-entry PAX records with an allow-list of keywords. */
export function interpretPaxRecords(records: ReadonlyMap<string, Buffer>, entry: string): PaxAttributes {
  const reject = (reason: string): never => {
    throw new UnsafeArchiveError(entry, reason);
  };
  const xattrs = new Map<string, Buffer>();
  const ignored: string[] = [];
  const attributes: { -readonly [K in keyof PaxAttributes]?: PaxAttributes[K] } = {};
  const addXattr = (name: string, value: Buffer) => {
    if (xattrs.has(name)) reject(`xattr ${name} is given twice`);
    xattrs.set(name, value);
  };

  for (const [key, value] of records) {
    const text = () => utf8(value, key, reject);
    if (key === 'path') attributes.path = text();
    else if (key === 'linkpath') attributes.linkpath = text();
    else if (key === 'size') attributes.size = decimal(text(), key, reject);
    else if (key === 'uid') attributes.uid = decimal(text(), key, reject);
    else if (key === 'gid') attributes.gid = decimal(text(), key, reject);
    else if (key === 'mtime') attributes.mtime = paxTime(text(), reject);
    else if (key.startsWith('SCHILY.xattr.')) addXattr(key.slice('SCHILY.xattr.'.length), value);
    else if (key.startsWith('LIBARCHIVE.xattr.')) addXattr(urlDecoded(key.slice('LIBARCHIVE.xattr.'.length), reject), base64(value, key, reject));
    else if (key === 'hdrcharset') {
      if (text() !== UTF8_HDRCHARSET) reject(`unsupported PAX hdrcharset ${JSON.stringify(text())}`);
    } else if (ACL_KEYWORDS.has(key)) ignored.push(key);
    else if (key.startsWith('GNU.sparse.')) reject('GNU sparse files are not supported');
    else if (!INERT_KEYWORDS.has(key)) reject(`unsupported PAX keyword ${key}`);
  }
  return { ...attributes, xattrs, ignored };
}

/**
 * A global header (typeflag 'g') changes every later entry, and tar implementations disagree on
 * how; tar-stream merges it into later per-entry headers only. We accept only a comment (git
 * archive writes one) so that no reader can see a different archive than we do.
 */
export function checkGlobalPaxRecords(records: ReadonlyMap<string, Buffer>): void {
  for (const key of records.keys()) {
    if (key !== 'comment') throw new UnsafeArchiveError('(global PAX header)', `global PAX keyword ${key} is not supported`);
  }
}

function utf8(value: Buffer, key: string, reject: (reason: string) => never): string {
  const text = value.toString('utf8');
  if (text.includes('\uFFFD')) reject(`PAX ${key} is not valid UTF-8`);
  return text;
}

function decimal(text: string, key: string, reject: (reason: string) => never): number {
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) reject(`PAX ${key} is not a decimal integer: ${JSON.stringify(text)}`);
  return Number(text);
}

function paxTime(text: string, reject: (reason: string) => never): Timestamp {
  const match = /^(-?[0-9]{1,12})(?:\.([0-9]+))?$/.exec(text);
  if (match === null) return reject(`PAX mtime is not a time: ${JSON.stringify(text)}`);
  const seconds = Number(match[1]);
  const fraction = (match[2] ?? '').slice(0, 9).padEnd(9, '0');
  const nanoseconds = Number(fraction);
  // -1.5 means 1.5 s before the epoch: seconds -2, nanoseconds 0.5e9.
  if (match[1].startsWith('-') && nanoseconds > 0) return { seconds: seconds - 1, nanoseconds: 1e9 - nanoseconds };
  return { seconds, nanoseconds };
}

/* libarchive percent-encodes xattr names in the keyword. */
function urlDecoded(name: string, reject: (reason: string) => never): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return reject(`PAX xattr name ${JSON.stringify(name)} is badly percent-encoded`);
  }
}

function base64(value: Buffer, key: string, reject: (reason: string) => never): Buffer {
  const text = value.toString('latin1');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) reject(`PAX ${key} is not base64`);
  return Buffer.from(text, 'base64');
}
