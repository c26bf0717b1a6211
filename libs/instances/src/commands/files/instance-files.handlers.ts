import { CommandHandler, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { InstanceRoots, type GuestEntry } from './instance-root.js';
import { DeleteInstanceFileCommand, GetInstanceFileQuery, PushInstanceFileCommand } from './instance-files.messages.js';

/** A guest path, relative ones taken from `/` as LXD does; no NUL. Resolution (`..`, symlinks) happens inside the root. */
export function parseGuestPath(value: string | undefined): string {
  if (value === undefined || value === '') throw new ValidationError('path', 'is required');
  const guestPath = value.startsWith('/') ? value : `/${value}`;
  if (guestPath.includes('\0')) throw new ValidationError('path', 'must not contain NUL characters');
  if (guestPath.length > 4096) throw new ValidationError('path', 'is too long');
  return guestPath;
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

  async execute({ name, path, spec, body }: PushInstanceFileCommand): Promise<void> {
    const guestPath = parseGuestPath(path);
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
