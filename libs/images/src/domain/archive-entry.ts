/** Seconds and nanoseconds since the epoch, as tar and PAX carry them. */
export interface Timestamp {
  readonly seconds: number;
  readonly nanoseconds: number;
}

export type TarEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'character-device'
  | 'block-device'
  | 'fifo'
  /* GNU sparse, multi-volume, unknown typeflags: never written. */
  | 'unsupported';

/**
 * One tar entry as the parser saw it, after PAX and GNU long-name headers were applied: the only
 * input of the layout policy. `name` and `linkName` are exactly the strings the parser will
 * hand on; `xattrs` hold raw bytes from SCHILY.xattr / LIBARCHIVE.xattr PAX records.
 */
export interface TarEntryHeader {
  readonly name: string;
  readonly type: TarEntryType;
  readonly linkName: string | null;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Timestamp;
  readonly devMajor: number;
  readonly devMinor: number;
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

export type PlannedEntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device' | 'block-device' | 'fifo';

/**
 * An entry admitted by the layout policy, with its destination relative to the extraction root
 * (metadata.yaml, rootfs/..., templates/...). This is what the helper writes, field for field.
 */
export interface PlannedEntry {
  readonly kind: PlannedEntryKind;
  readonly path: string;
  /** Permission bits including setuid, setgid and sticky (07777). */
  readonly mode: number;
  /** Archive ids, before the target's id shift. */
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Timestamp;
  /** Symlink target (verbatim) or hardlink target (a destination path of an earlier file). */
  readonly linkTarget: string | null;
  readonly devMajor: number;
  readonly devMinor: number;
  readonly xattrs: readonly (readonly [string, Buffer])[];
  /** Bytes of content that follow (regular files only). */
  readonly size: number;
  /** A directory the policy created implicitly earlier (a missing parent) and now gets its own entry. */
  readonly mayExist: boolean;
}

/** Sets the times of a directory once everything inside it has been written. */
export interface DirectoryTimes {
  readonly path: string;
  readonly mtime: Timestamp;
}
