import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

import type { BerthNative, NativeDirent, NativeOwnership, NativeStat } from './berth-native.js';
import { InvalidContainerSpecError, NativeCallError } from './errors.js';
import { defaultNativeDir, loadNative } from './native.js';

/** What `lstat` tells about an entry of a guest tree. */
export interface GuestStat {
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  nlink: number;
  mtimeMs: number;
}

export type GuestDirent = NativeDirent;

/** Owner and mode of a written file or a new directory; see `GuestRoot.writeFile`. */
export type GuestOwnership = NativeOwnership;

const fchown = promisify(fs.fchown);
const fchmod = promisify(fs.fchmod);
const fsync = promisify(fs.fsync);
const close = promisify(fs.close);

const S_IFMT = 0o170000;
const TYPES: Record<number, GuestStat['type']> = { 0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink' };

/** 16 MiB: more than any configuration file a fix-up reads. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

function toStat(raw: NativeStat): GuestStat {
  return {
    type: TYPES[raw.mode & S_IFMT] ?? 'other',
    mode: raw.mode & 0o7777,
    uid: raw.uid,
    gid: raw.gid,
    size: raw.size,
    ino: raw.ino,
    nlink: raw.nlink,
    mtimeMs: raw.mtimeMs,
  };
}

/**
 * File access inside an untrusted root filesystem (a VM's or a container's), as if the process
 * were chrooted there: the kernel resolves every path relative to the root (openat2 with
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so an absolute symlink, a `../..` chain or a
 * symlinked parent directory can never lead outside it, and /proc magic links are refused.
 * Operations on the final component (lstat, readlink, rename, unlink, writeFile) never follow
 * it. Paths are guest paths: `/etc/fstab` and `etc/fstab` are the same file.
 *
 * Failures are NativeCallErrors with the syscall and errno (`errnoCode` `ENOENT`, `ELOOP`...).
 */
export class GuestRoot {
  private readonly native: BerthNative;

  constructor(
    /** Absolute host path of the tree's top directory (trusted: it is the caller's). */
    readonly root: string,
    options: { nativeDir?: string } = {},
  ) {
    if (!path.isAbsolute(root)) throw new InvalidContainerSpecError('root', 'must be an absolute path');
    this.native = loadNative(options.nativeDir ?? defaultNativeDir);
  }

  /** The entry itself (a final symlink is not followed). */
  async lstat(guestPath: string): Promise<GuestStat> {
    return toStat(await this.call(guestPath, () => this.native.rootLstat(this.root, guestPath)));
  }

  /** Like `lstat`, or null when nothing is there (ENOENT, or ENOTDIR on the way). */
  async lstatIfExists(guestPath: string): Promise<GuestStat | null> {
    try {
      return await this.lstat(guestPath);
    } catch (error) {
      if (GuestRoot.isMissing(error)) return null;
      throw error;
    }
  }

  /** Where `guestPath` leads with every symlink followed inside the root, e.g. `/lib/systemd/systemd`. */
  realpath(guestPath: string): Promise<string> {
    return this.call(guestPath, () => this.native.rootRealpath(this.root, guestPath));
  }

  /**
   * A regular file's content, symlinks followed inside the root. Anything else (a FIFO, a
   * device, a directory) is refused without being opened for reading; a file larger than
   * `maxBytes` (default 16 MiB) fails with EFBIG, unless `truncate` asks for its first bytes only.
   */
  readFile(guestPath: string, options: { maxBytes?: number; truncate?: boolean } = {}): Promise<Buffer> {
    const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
    return this.call(guestPath, () => this.native.rootReadFile(this.root, guestPath, max, options.truncate ?? false));
  }

  /** `readFile` as UTF-8 text. */
  async readText(guestPath: string, options: { maxBytes?: number } = {}): Promise<string> {
    return (await this.readFile(guestPath, options)).toString('utf8');
  }

  /** A symlink's target as stored (EINVAL when the entry is not a symlink). */
  readlink(guestPath: string): Promise<string> {
    return this.call(guestPath, () => this.native.rootReadlink(this.root, guestPath));
  }

  /** A directory's entries (symlinks to it followed inside the root), sorted by name. */
  readdir(guestPath: string): Promise<GuestDirent[]> {
    return this.call(guestPath, () => this.native.rootReaddir(this.root, guestPath));
  }

  /**
   * Replaces or creates a file atomically (a temporary file in the same directory renamed over
   * it). A symlink at `guestPath` is replaced by the file, never written through. Owner and mode
   * are those given, else the replaced regular file's, else 0644 and the directory's owner.
   */
  writeFile(guestPath: string, data: string | Buffer, options: GuestOwnership = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.call(guestPath, () => this.native.rootWriteFile(this.root, guestPath, bytes, options));
  }

  /**
   * Streams a regular file's content (symlinks followed inside the root; anything else is refused
   * unopened), with its `stat` at opening. The stream owns the descriptor and closes it at its end
   * or when destroyed.
   */
  async openRead(guestPath: string): Promise<{ stream: Readable; stat: GuestStat }> {
    const opened = await this.call(guestPath, () => this.native.rootOpen(this.root, guestPath, 'read'));
    return { stream: fs.createReadStream('', { fd: opened.fd, autoClose: true }), stat: toStat(opened.stat) };
  }

  /**
   * `writeFile` from a stream, never holding more than a chunk: replaces the file atomically (a
   * temporary file renamed over it; a symlink there is replaced, never written through), or with
   * `append` adds to the file `guestPath` leads to (symlinks followed inside the root; created when
   * missing). Owner and mode are those given, else the existing regular file's, else 0644 and the
   * directory's owner. On failure a temporary file is removed and the old file is left as it was.
   */
  async writeStream(guestPath: string, source: Readable, options: GuestOwnership & { append?: boolean } = {}): Promise<void> {
    const { append, ...given } = options;
    const existing = append ? await this.statIfExists(guestPath) : await this.lstatIfExists(guestPath);
    if (existing?.type === 'directory') {
      throw new NativeCallError(`${guestPath} is a directory (in ${this.root})`, 'open', 21, 'EISDIR');
    }
    const opened = await this.call(guestPath, () => this.native.rootOpen(this.root, guestPath, append ? 'append' : 'temp'));
    const previous = existing?.type === 'file' ? existing : null;
    const dir = append && !previous ? await this.lstat(path.posix.dirname(path.posix.resolve('/', guestPath))).catch(() => null) : null;
    const owner = {
      uid: given.uid ?? previous?.uid ?? (append ? dir?.uid : opened.stat.uid) ?? 0,
      gid: given.gid ?? previous?.gid ?? (append ? dir?.gid : opened.stat.gid) ?? 0,
      mode: given.mode ?? previous?.mode ?? 0o644,
    };
    let closed = false;
    try {
      await pipeline(source, fs.createWriteStream('', { fd: opened.fd, autoClose: false }));
      // chown before chmod: chown clears set-id bits.
      if (!append || !previous || given.uid !== undefined || given.gid !== undefined) await fchown(opened.fd, owner.uid, owner.gid);
      if (!append || !previous || given.mode !== undefined) await fchmod(opened.fd, owner.mode);
      await fsync(opened.fd);
      closed = true;
      await close(opened.fd);
      if (!append) await this.rename(opened.path, guestPath);
    } catch (error) {
      if (!closed) await close(opened.fd).catch(() => undefined);
      if (!append) await this.unlink(opened.path).catch(() => undefined);
      throw error;
    }
  }

  /** Like `stat`, or null when nothing is there. */
  async statIfExists(guestPath: string): Promise<GuestStat | null> {
    try {
      return await this.stat(guestPath);
    } catch (error) {
      if (GuestRoot.isMissing(error)) return null;
      throw error;
    }
  }

  /** Renames an entry (the entry itself, even a symlink); `noReplace` fails with EEXIST. */
  rename(from: string, to: string, options: { noReplace?: boolean } = {}): Promise<void> {
    return this.call(from, () => this.native.rootRename(this.root, from, to, options.noReplace ?? false));
  }

  /** Creates a symlink at `guestPath` whose target is stored verbatim. */
  symlink(target: string, guestPath: string): Promise<void> {
    return this.call(guestPath, () => this.native.rootSymlink(this.root, target, guestPath));
  }

  /**
   * Creates a directory (default 0755, owned like its parent); with `recursive`, its missing
   * parents too, and an existing directory is no error.
   */
  async mkdir(guestPath: string, options: GuestOwnership & { recursive?: boolean } = {}): Promise<void> {
    const { recursive, ...ownership } = options;
    if (!recursive) {
      return this.call(guestPath, () => this.native.rootMkdir(this.root, guestPath, ownership));
    }
    const parts = guestPath.split('/').filter((p) => p !== '' && p !== '.');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = `/${parts.slice(0, i).join('/')}`;
      try {
        await this.call(prefix, () => this.native.rootMkdir(this.root, prefix, i === parts.length ? ownership : {}));
      } catch (error) {
        if (!(error instanceof NativeCallError && error.errnoCode === 'EEXIST')) throw error;
        if ((await this.stat(prefix)).type !== 'directory') throw error;
      }
    }
  }

  /** Removes a file or symlink (the link itself). */
  unlink(guestPath: string): Promise<void> {
    return this.call(guestPath, () => this.native.rootUnlink(this.root, guestPath, false));
  }

  /** Removes an empty directory. */
  rmdir(guestPath: string): Promise<void> {
    return this.call(guestPath, () => this.native.rootUnlink(this.root, guestPath, true));
  }

  /** What `guestPath` leads to, symlinks followed inside the root. */
  async stat(guestPath: string): Promise<GuestStat> {
    return this.lstat(await this.realpath(guestPath));
  }

  /** True for the errors that mean "nothing there": ENOENT, or ENOTDIR on the way. */
  static isMissing(error: unknown): boolean {
    return error instanceof NativeCallError && (error.errnoCode === 'ENOENT' || error.errnoCode === 'ENOTDIR');
  }

  private async call<T>(guestPath: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const e = error as { syscall?: string; errno?: number; code?: string; message?: string };
      if (typeof e.syscall !== 'string') throw error;
      throw new NativeCallError(`${e.message} (${guestPath} in ${this.root})`, e.syscall, e.errno ?? 0, e.code ?? 'EUNKNOWN');
    }
  }
}
