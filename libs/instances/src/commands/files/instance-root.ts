import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { NotFoundError, ValidationError } from '#core';
import { GuestRoot, GuestRoots, NativeCallError, type GuestStat } from '#runtime';
import { DefaultPool } from '#storage';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';

/** What a guest path holds, as the files API answers it. */
export type GuestEntry =
  | { type: 'file'; uid: number; gid: number; mode: number; stream: Readable }
  | { type: 'directory'; uid: number; gid: number; mode: number; entries: string[] }
  | { type: 'symlink'; uid: number; gid: number; mode: number; target: string };

/** What a push writes (LXD's X-LXD-* headers, already parsed). */
export interface PushSpec {
  type: 'file' | 'directory' | 'symlink';
  /** Container ids; undefined keeps an existing file's, else takes the parent directory's. */
  uid?: number;
  gid?: number;
  mode?: number;
  append: boolean;
}

export class InstanceFileNotFoundError extends NotFoundError {
  constructor(name: string, path: string) {
    super(`Not found: "${path}" in instance "${name}"`);
  }
}

/**
 * An instance's root filesystem seen from the host, every path resolved inside it (GuestRoot:
 * openat2 RESOLVE_IN_ROOT, so `..` and symlinks, absolute or not, never leave it). Owners are
 * the container's ids: on disk they are the same (the runtime idmaps the rootfs at mount time),
 * except on a rootfs shifted once to a host range (`.berth-shifted.rootfs` beside it), where
 * `shift` is added on the way in and subtracted on the way out.
 */
export class InstanceRoot {
  constructor(
    readonly instance: string,
    readonly guest: GuestRoot,
    readonly shift = 0,
  ) {}

  /**
   * The entry at `path` (a final symlink is reported as a symlink, not followed, as LXD does);
   * a file's content is streamed, never held whole.
   */
  async read(path: string): Promise<GuestEntry> {
    const stat = await this.guard(path, () => this.guest.lstat(path));
    const owner = this.toGuest(stat);
    if (stat.type === 'symlink') return { type: 'symlink', ...owner, target: await this.guard(path, () => this.guest.readlink(path)) };
    if (stat.type === 'directory') return { type: 'directory', ...owner, entries: (await this.guard(path, () => this.guest.readdir(path))).map((e) => e.name) };
    if (stat.type !== 'file') throw new ValidationError('path', `"${path}" is neither a regular file, a directory nor a symlink`);
    const { stream, stat: opened } = await this.guard(path, () => this.guest.openRead(path));
    return { type: 'file', ...this.toGuest(opened), stream };
  }

  /**
   * Writes a file (atomically replaced, or appended to), creates a directory (an existing one
   * is no error) or a symlink whose target is `body` as text.
   */
  async push(path: string, spec: PushSpec, body: Readable): Promise<void> {
    const owner = {
      ...(spec.uid === undefined ? {} : { uid: this.toHost(spec.uid) }),
      ...(spec.gid === undefined ? {} : { gid: this.toHost(spec.gid) }),
      ...(spec.mode === undefined ? {} : { mode: spec.mode }),
    };
    if (spec.type === 'file') {
      await this.guard(path, () => this.guest.writeStream(path, body, { ...owner, append: spec.append }));
      return;
    }
    const text = await readSmall(body, 4096);
    if (spec.type === 'symlink') {
      if (text === '' || text.includes('\0')) throw new ValidationError('body', 'a symlink needs its target as the body');
      const existing = await this.guest.lstatIfExists(path);
      if (existing?.type === 'directory') throw new ValidationError('path', `"${path}" is a directory`);
      if (existing) await this.guard(path, () => this.guest.unlink(path));
      await this.guard(path, () => this.guest.symlink(text, path));
      return;
    }
    const existing = await this.guest.lstatIfExists(path);
    if (existing && existing.type !== 'directory') throw new ValidationError('path', `"${path}" exists and is not a directory`);
    // An existing directory is left as it is (a recursive push meets its top directory again).
    if (!existing) await this.guard(path, () => this.guest.mkdir(path, owner));
  }

  /** Removes a file, a symlink (not its target) or an empty directory. */
  async delete(path: string): Promise<void> {
    const stat = await this.guard(path, () => this.guest.lstat(path));
    if (stat.type === 'directory') await this.guard(path, () => this.guest.rmdir(path));
    else await this.guard(path, () => this.guest.unlink(path));
  }

  private toGuest(stat: GuestStat): { uid: number; gid: number; mode: number } {
    const id = (v: number) => (this.shift > 0 && v >= this.shift && v < this.shift + 65536 ? v - this.shift : v);
    return { uid: id(stat.uid), gid: id(stat.gid), mode: stat.mode };
  }

  private toHost(id: number): number {
    return id + this.shift;
  }

  /** Native failures as the API's errors: a missing path is a 404, a wrong kind of entry a 400. */
  private async guard<T>(path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof NativeCallError)) throw err;
      if (GuestRoot.isMissing(err)) throw new InstanceFileNotFoundError(this.instance, path);
      const reasons: Record<string, string> = {
        EISDIR: 'is a directory',
        EEXIST: 'already exists',
        ENOTEMPTY: 'is a directory that is not empty',
        ELOOP: 'has too many levels of symlinks',
        EINVAL: 'is not a valid path for this operation',
        EXDEV: 'leads through a magic link',
        ENAMETOOLONG: 'is too long',
      };
      const reason = reasons[err.errnoCode];
      if (reason) throw new ValidationError('path', `"${path}" ${reason}`);
      throw err;
    }
  }
}

async function readSmall(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) throw new ValidationError('body', `must be at most ${max} bytes for a directory or a symlink`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Opens instances' roots: the `rootfs` of each one's volume in the default pool. */
@Injectable()
export class InstanceRoots {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly pool: DefaultPool,
    private readonly guests: GuestRoots,
  ) {}

  async open(name: string): Promise<InstanceRoot> {
    await this.instances.get(name); // 404 for an unknown instance
    const volume = (await this.pool.get()).instanceVolumePath(name);
    return new InstanceRoot(name, this.guests.open(join(volume, 'rootfs')), await shiftOf(volume));
  }
}

/** The base a shifted rootfs's owners were moved to (0 when never shifted); a shift under way is refused. */
export async function shiftOf(volume: string): Promise<number> {
  let marker: string;
  try {
    marker = await readFile(join(volume, '.berth-shifted.rootfs'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const [state, base] = marker.trim().split(/\s+/);
  if (state === 'shifted' && /^\d+$/.test(base ?? '')) return Number(base);
  throw new InstanceStateError(`The instance's root filesystem is being shifted to another id range; try again once it has started`);
}
