import { ValidationError } from '#core';
import type { PushSpec } from '#instances';
import { header } from './params.js';

type Headers = Record<string, string | string[] | undefined>;


function id(headers: Headers, name: string): number | undefined {
  const v = header(headers, name);
  if (v === undefined || v === '' || v === '-1') return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new ValidationError(name, 'must be an id from 0 to 65535 inside the instance');
  return Number(v);
}

/** LXD's X-LXD-uid/gid/mode/type/write headers (absent or -1: unset; mode in octal, as LXD's client sends it). */
export function parsePushHeaders(headers: Headers): PushSpec {
  const type = header(headers, 'X-LXD-type') || 'file';
  if (type !== 'file' && type !== 'directory' && type !== 'symlink') throw new ValidationError('X-LXD-type', 'must be file, directory or symlink');
  const write = header(headers, 'X-LXD-write') || 'overwrite';
  if (write !== 'overwrite' && write !== 'append') throw new ValidationError('X-LXD-write', 'must be overwrite or append');
  const rawMode = header(headers, 'X-LXD-mode');
  let mode: number | undefined;
  if (rawMode !== undefined && rawMode !== '' && rawMode !== '-1') {
    if (!/^0?[0-7]{1,4}$/.test(rawMode)) throw new ValidationError('X-LXD-mode', 'must be an octal mode such as 0644');
    mode = parseInt(rawMode, 8);
  }
  return { type, uid: id(headers, 'X-LXD-uid'), gid: id(headers, 'X-LXD-gid'), mode, append: write === 'append' };
}
