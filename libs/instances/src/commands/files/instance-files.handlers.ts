import { CommandHandler, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { InstanceRoots, type GuestEntry, type PushSpec } from './instance-root.js';
import { DeleteInstanceFileCommand, GetInstanceFileQuery, PushInstanceFileCommand } from './instance-files.messages.js';

/** A guest path, relative ones taken from `/` as LXD does; no NUL. Resolution (`..`, symlinks) happens inside the root. */
export function parseGuestPath(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ValidationError('path', 'is required');
  const guestPath = value.startsWith('/') ? value : `/${value}`;
  if (guestPath.includes('\0')) throw new ValidationError('path', 'must not contain NUL characters');
  if (guestPath.length > 4096) throw new ValidationError('path', 'is too long');
  return guestPath;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function id(headers: Record<string, string | string[] | undefined>, name: string): number | undefined {
  const v = header(headers, name);
  if (v === undefined || v === '' || v === '-1') return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new ValidationError(name, 'must be an id from 0 to 65535 inside the instance');
  return Number(v);
}

/** LXD's X-LXD-uid/gid/mode/type/write headers (absent or -1: unset; mode in octal, as LXD's client sends it). */
export function parsePushHeaders(headers: Record<string, string | string[] | undefined>): PushSpec {
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

@QueryHandler(GetInstanceFileQuery)
export class GetInstanceFileHandler implements IQueryHandler<GetInstanceFileQuery> {
  constructor(private readonly roots: InstanceRoots) {}

  async execute({ name, path }: GetInstanceFileQuery): Promise<GuestEntry> {
    const guestPath = parseGuestPath(path);
    return (await this.roots.open(name)).read(guestPath);
  }
}

@CommandHandler(PushInstanceFileCommand)
export class PushInstanceFileHandler implements ICommandHandler<PushInstanceFileCommand> {
  constructor(private readonly roots: InstanceRoots) {}

  async execute({ name, path, headers, body }: PushInstanceFileCommand): Promise<void> {
    const guestPath = parseGuestPath(path);
    const spec = parsePushHeaders(headers);
    await (await this.roots.open(name)).push(guestPath, spec, body);
  }
}

@CommandHandler(DeleteInstanceFileCommand)
export class DeleteInstanceFileHandler implements ICommandHandler<DeleteInstanceFileCommand> {
  constructor(private readonly roots: InstanceRoots) {}

  async execute({ name, path }: DeleteInstanceFileCommand): Promise<void> {
    const guestPath = parseGuestPath(path);
    await (await this.roots.open(name)).delete(guestPath);
  }
}
