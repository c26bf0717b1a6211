/**
 * The berth_native.node addon (native/src/addon/addon.cc). Only calls that are safe from
 * Node's multi-threaded process; namespace work lives in the berth-monitor executable.
 * Rejections are Errors carrying `syscall`, `errno` and `code` (e.g. "ESRCH"); the root* calls
 * add the `path` they were given.
 *
 * The root* calls resolve every path inside `root` as if it were "/" (openat2 with
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): absolute symlinks and ".." never leave it.
 */
export interface BerthNative {
  /** Sends `signal` (0 probes) to `pid` through a pidfd. */
  signalProcess(pid: number, signal: number): Promise<void>;
  /** The entry itself; a final symlink is not followed. */
  rootLstat(root: string, path: string): Promise<NativeStat>;
  /** Where `path` leads with every symlink followed in root: an absolute path from the root. */
  rootRealpath(root: string, path: string): Promise<string>;
  /**
   * A regular file's bytes (symlinks followed in root): EFBIG above maxBytes, or with `truncate`
   * only its first maxBytes; EINVAL/EISDIR for anything but a regular file.
   */
  rootReadFile(root: string, path: string, maxBytes: number, truncate?: boolean): Promise<Buffer>;
  /** A symlink's target, verbatim (EINVAL if not a symlink). */
  rootReadlink(root: string, path: string): Promise<string>;
  /** Entries of a directory (symlinks followed in root), without `.` and `..`, sorted by name. */
  rootReaddir(root: string, path: string): Promise<NativeDirent[]>;
  /**
   * Atomically replaces or creates a file (temporary file + renameat in the same directory); a
   * final symlink is replaced, not followed. Owner and mode: the given ones, else the replaced
   * regular file's, else 0644 and the parent directory's owner.
   */
  rootWriteFile(root: string, path: string, data: Buffer, options?: NativeOwnership): Promise<void>;
  /** renameat2 with both parents resolved in root; `noReplace` fails with EEXIST. */
  rootRename(root: string, from: string, to: string, noReplace?: boolean): Promise<void>;
  /** Creates a symlink at `path`, its `target` stored verbatim. */
  rootSymlink(root: string, target: string, path: string): Promise<void>;
  /** Creates a directory (default 0755, owned like its parent). */
  rootMkdir(root: string, path: string, options?: NativeOwnership): Promise<void>;
  /** Removes the final component itself (rmdir with `directory`). */
  rootUnlink(root: string, path: string, directory?: boolean): Promise<void>;
  /**
   * A descriptor (O_CLOEXEC, owned by the caller, who closes it) for streaming: `read` a regular
   * file (symlinks followed in root; anything else refused unopened), `append` to one (created
   * 0600 when missing), or a new 0600 `temp` file in the parent directory of `path`, to be
   * renamed over it. `path` is where the descriptor's file is (the temporary one's for `temp`);
   * `stat` is its fstat, or the parent directory's for `temp`.
   */
  rootOpen(root: string, path: string, how: 'read' | 'append' | 'temp'): Promise<NativeOpenFile>;
  /**
   * SO_PEERCRED of a connected unix socket: the peer's pid, uid and gid as this process'
   * namespaces see them. Synchronous (a descriptor cannot be reused under it); throws like the rest.
   */
  peerCredentials(fd: number): PeerCredentials;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface NativeOpenFile {
  fd: number;
  path: string;
  stat: NativeStat;
}

export interface NativeStat {
  /** st_mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  nlink: number;
  mtimeMs: number;
}

export interface NativeDirent {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
}

export interface NativeOwnership {
  mode?: number;
  uid?: number;
  gid?: number;
}
