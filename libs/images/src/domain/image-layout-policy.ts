import type { DirectoryTimes, PlannedEntry, PlannedEntryKind, TarEntryHeader } from './archive-entry.js';
import type { ExtractionLimits } from './extraction-limits.js';
import { ArchiveLimitExceededError, MalformedImageError, UnsafeArchiveError } from './image.errors.js';

/**
 * Which tarball of an image is being read: a unified tarball (metadata.yaml, rootfs/, templates/),
 * or the metadata half (metadata.yaml, templates/) or the rootfs half (the rootfs itself, written
 * under rootfs/) of a split image; or a bare root filesystem written directly into the extraction
 * root ('tree', e.g. a VM's root), with no top-level allow-list.
 */
export type ArchiveRole = 'unified' | 'metadata' | 'rootfs' | 'tree';

/** What the policy knows about an admitted path: its kind in the tree being built. */
export type AdmittedKind = 'directory' | 'file' | 'symlink' | 'special';

type TrackedKind = 'directory' | 'implicit-directory' | 'file' | 'symlink' | 'special';

const MAX_XATTRS = 32;
const MAX_XATTR_NAME_BYTES = 255;
const MAX_XATTR_VALUE_BYTES = 64 * 1024;
const NAME_MAX = 255;

export interface AdmittedEntries {
  /** Implicit parents first, then the entry itself; empty when the entry is the archive's root. */
  readonly entries: readonly PlannedEntry[];
  readonly warnings: readonly string[];
  /** The archive's root entry in the 'tree' role: its owner, mode and time belong to the extraction root itself. */
  readonly root?: PlannedEntry;
}

/**
 * Decides, entry by entry and in archive order, what of an image archive may be written and where.
 * It keeps the kind of every path admitted so far, so that checks are made against the tree being
 * built, never against the host filesystem:
 * - names are validated after PAX/GNU long names were applied: no NUL, no empty, "." or ".."
 *   component, bounded length and depth; leading slashes are dropped, as GNU tar drops them;
 * - the top level is an allow-list: metadata.yaml (a regular file), rootfs/ and templates/
 *   (directories), each exactly once; templates/ holds only directories and regular files
 *   (except in the 'tree' role, where the archive is the root filesystem itself);
 * - every path is admitted once (a directory replaced by a symlink is a duplicate);
 * - a parent must be a directory admitted earlier (never a symlink), missing ones are created
 *   (rootfs/ and templates/ too: GNU tar accepts a file before its directory's entry);
 * - a hardlink must name a regular file admitted earlier under rootfs/ (anywhere, for 'tree');
 * - owners must lie in the target's id range.
 * The helper enforces the path rules again while writing; this policy gives the precise error.
 */
export class ImageLayoutPolicy {
  private readonly tree = new Map<string, TrackedKind>();
  private readonly directoryTimes: DirectoryTimes[] = [];
  private entryCount = 0;
  private rootSeen = false;

  constructor(
    private readonly limits: ExtractionLimits,
    /** Archive uids and gids must be below this (the size of the container's id map). */
    private readonly idRange: number,
  ) {}

  admit(header: TarEntryHeader, role: ArchiveRole): AdmittedEntries {
    this.entryCount += 1;
    if (this.entryCount > this.limits.maxEntries) throw new ArchiveLimitExceededError('maxEntries', this.limits.maxEntries, header.name);

    const reject = (reason: string): never => {
      throw new UnsafeArchiveError(header.name, reason);
    };
    const components = this.destination(splitMemberName(header.name, this.limits), role, reject);
    if (components === null) {
      if (header.type !== 'directory') reject('the archive root must be a directory');
      if (role !== 'tree') return { entries: [], warnings: [] };
      if (this.rootSeen) reject('duplicate entry: the archive root was already extracted');
      this.rootSeen = true;
      this.checkId(header.uid, 'uid', reject);
      this.checkId(header.gid, 'gid', reject);
      const warnings = [...header.xattrs.keys()].map((name) => `${header.name}: dropped xattr ${name} of the archive root`);
      return { entries: [], warnings, root: plannedDirectory('', header, header.mode & 0o7777, header.uid, header.gid) };
    }
    const path = components.join('/');
    const section = components[0];
    const kind = plannedKind(header, reject);
    const existing = this.tree.get(path);
    const mayExist = existing === 'implicit-directory' && kind === 'directory';
    if (existing !== undefined && !mayExist) reject(`duplicate entry: ${path} was already extracted as a ${existing}`);

    // A bare root filesystem ('tree') has no layout of its own; the tree rules below apply to all roles.
    if (role !== 'tree') this.checkImageLayout(components, kind, header, reject);
    if (header.size > this.limits.maxTotalBytes) throw new ArchiveLimitExceededError('maxTotalBytes', this.limits.maxTotalBytes, header.name);
    if (kind !== 'file' && header.size !== 0) reject(`a ${kind} entry must not carry data`);
    this.checkId(header.uid, 'uid', reject);
    this.checkId(header.gid, 'gid', reject);

    const implicitParents = this.admitParents(components, header, role, reject);

    let linkTarget: string | null = null;
    if (kind === 'symlink') linkTarget = symlinkTarget(header, this.limits, reject);
    if (kind === 'hardlink') linkTarget = this.hardlinkTarget(header, role, section, reject);

    const { xattrs, warnings } = admitXattrs(header, kind, reject);
    this.tree.set(path, trackedKind(kind));
    if (kind === 'directory') this.directoryTimes.push({ path, mtime: header.mtime });

    const entry: PlannedEntry = {
      kind,
      path,
      mode: header.mode & 0o7777,
      uid: header.uid,
      gid: header.gid,
      mtime: header.mtime,
      linkTarget,
      devMajor: header.devMajor,
      devMinor: header.devMinor,
      xattrs,
      size: kind === 'file' ? header.size : 0,
      mayExist,
    };
    return { entries: [...implicitParents, entry], warnings };
  }

  /**
   * After the last archive: the directory times to apply, deepest last is fine (order is free).
   * An image must hold metadata.yaml and rootfs/; a 'tree' has no required entries.
   */
  finish(layout: 'image' | 'tree' = 'image'): readonly DirectoryTimes[] {
    if (layout === 'tree') return this.directoryTimes;
    if (this.tree.get('metadata.yaml') !== 'file') throw new MalformedImageError('The image has no metadata.yaml');
    if (!isDirectory(this.tree.get('rootfs'))) throw new MalformedImageError('The image has no rootfs/');
    return this.directoryTimes;
  }

  /** True if path (relative to the extraction root) was admitted as a regular file. */
  isRegularFile(path: string): boolean {
    return this.tree.get(path) === 'file';
  }

  /** The kind path (relative to the extraction root, no "./") was admitted as; undefined if it was not. */
  kindOf(path: string): AdmittedKind | undefined {
    const kind = this.tree.get(path);
    return kind === 'implicit-directory' ? 'directory' : kind;
  }

  private checkImageLayout(components: string[], kind: PlannedEntryKind, header: TarEntryHeader, reject: (reason: string) => never): void {
    const section = components[0];
    if (section === 'metadata.yaml') {
      if (components.length !== 1 || kind !== 'file') reject('metadata.yaml must be a regular file');
      if (header.size > this.limits.maxMetadataBytes) throw new ArchiveLimitExceededError('maxMetadataBytes', this.limits.maxMetadataBytes, header.name);
    } else if (components.length === 1 && kind !== 'directory') {
      reject(`${section}/ must be a directory`);
    } else if (section === 'templates' && kind !== 'directory' && kind !== 'file') {
      reject('templates/ may only hold directories and regular files');
    }
  }

  /** Maps a validated name to its destination components; null for the archive's own root. */
  private destination(components: string[], role: ArchiveRole, reject: (reason: string) => never): string[] | null {
    if (role === 'rootfs') return ['rootfs', ...components];
    if (components.length === 0) return null;
    if (role === 'tree') return components;
    const allowed = role === 'unified' ? ['metadata.yaml', 'rootfs', 'templates'] : ['metadata.yaml', 'templates'];
    if (!allowed.includes(components[0])) reject(`unexpected top-level entry (allowed: ${allowed.join(', ')})`);
    return components;
  }

  private admitParents(components: string[], header: TarEntryHeader, role: ArchiveRole, reject: (reason: string) => never): PlannedEntry[] {
    const created: PlannedEntry[] = [];
    for (let depth = 1; depth < components.length; depth++) {
      const parent = components.slice(0, depth).join('/');
      const kind = this.tree.get(parent);
      if (isDirectory(kind)) continue;
      if (kind !== undefined) reject(`parent ${parent} is a ${kind}, not a directory`);
      // A missing parent, rootfs/ and templates/ included, is made (0755, root) as GNU tar makes it;
      // its own entry may come later and then sets its mode, owner and time.
      this.tree.set(parent, 'implicit-directory');
      created.push(plannedDirectory(parent, header, 0o755, 0, 0));
    }
    return created;
  }

  private hardlinkTarget(header: TarEntryHeader, role: ArchiveRole, section: string, reject: (reason: string) => never): string {
    if (header.linkName === null || header.linkName === '') return reject('hardlink without a target');
    let targetComponents: string[] | null;
    try {
      targetComponents = this.destination(splitMemberName(header.linkName, this.limits), role, reject);
    } catch (error) {
      if (error instanceof UnsafeArchiveError) return reject(`hardlink target ${JSON.stringify(header.linkName)}: ${error.reason}`);
      throw error;
    }
    const target = targetComponents?.join('/') ?? '';
    if (role === 'tree') {
      if (this.tree.get(target) !== 'file') reject(`hardlink target ${JSON.stringify(header.linkName)} is not a regular file extracted earlier`);
    } else if (section !== 'rootfs' || targetComponents?.[0] !== 'rootfs' || this.tree.get(target) !== 'file') {
      reject(`hardlink target ${JSON.stringify(header.linkName)} is not a regular file extracted earlier under rootfs/`);
    }
    return target;
  }

  private checkId(id: number, what: string, reject: (reason: string) => never): void {
    if (!Number.isSafeInteger(id) || id < 0 || id >= this.idRange) reject(`${what} ${id} is outside the id range 0-${this.idRange - 1}`);
  }
}

/**
 * Splits an entry name into components: one leading "./" and one trailing "/" are accepted (tar
 * writes them), anything else unusual is refused rather than normalised, so that one name has one
 * meaning. "." or "./" alone is the archive's root (no components).
 */
export function splitEntryName(name: string, limits: Pick<ExtractionLimits, 'maxPathBytes' | 'maxPathDepth'>): string[] {
  const reject = (reason: string): never => {
    throw new UnsafeArchiveError(name, reason);
  };
  if (name.includes('\0')) reject('the name contains a NUL byte');
  if (name.includes('\uFFFD')) reject('the name is not valid UTF-8');
  if (Buffer.byteLength(name) > limits.maxPathBytes) throw new ArchiveLimitExceededError('maxPathBytes', limits.maxPathBytes, name);
  if (name.startsWith('/')) reject('the name is absolute');
  let relative = name.startsWith('./') ? name.slice(2) : name;
  if (relative.endsWith('/')) relative = relative.slice(0, -1);
  if (relative === '' || relative === '.') return [];
  const components = relative.split('/');
  if (components.length > limits.maxPathDepth) throw new ArchiveLimitExceededError('maxPathDepth', limits.maxPathDepth, name);
  for (const component of components) {
    if (component === '') reject('the name has an empty component');
    if (component === '..') reject('the name has a ".." component');
    if (component === '.') reject('the name has a "." component');
    if (Buffer.byteLength(component) > NAME_MAX) reject('a component is longer than 255 bytes');
  }
  return components;
}

/**
 * A member name (or hardlink target) split as GNU tar extracts it, and LXD with it: leading
 * slashes are dropped, so `/rootfs/etc/x` and `//rootfs/etc/x` are `rootfs/etc/x`, still inside
 * the target ("/" alone is the archive's root); a refusal names the name as the archive has it.
 */
function splitMemberName(name: string, limits: Pick<ExtractionLimits, 'maxPathBytes' | 'maxPathDepth'>): string[] {
  const relative = name.replace(/^\/+/, '');
  try {
    return splitEntryName(relative === '' && name !== '' ? '.' : relative, limits);
  } catch (error) {
    if (error instanceof UnsafeArchiveError && relative !== name) throw new UnsafeArchiveError(name, error.reason);
    throw error;
  }
}

function plannedDirectory(path: string, header: TarEntryHeader, mode: number, uid: number, gid: number): PlannedEntry {
  return { kind: 'directory', path, mode, uid, gid, mtime: header.mtime, linkTarget: null, devMajor: 0, devMinor: 0, xattrs: [], size: 0, mayExist: false };
}

function plannedKind(header: TarEntryHeader, reject: (reason: string) => never): PlannedEntryKind {
  if (header.type === 'unsupported') return reject('unsupported entry type (GNU sparse, multi-volume or unknown typeflag)');
  return header.type;
}

function trackedKind(kind: PlannedEntryKind): TrackedKind {
  switch (kind) {
    case 'directory':
      return 'directory';
    case 'file':
    case 'hardlink':
      return 'file';
    case 'symlink':
      return 'symlink';
    default:
      return 'special';
  }
}

function isDirectory(kind: TrackedKind | undefined): boolean {
  return kind === 'directory' || kind === 'implicit-directory';
}

/* Stored verbatim and never followed, so any target is acceptable if it is a plain string. */
function symlinkTarget(header: TarEntryHeader, limits: ExtractionLimits, reject: (reason: string) => never): string {
  const target = header.linkName ?? '';
  if (target === '') reject('symlink without a target');
  if (target.includes('\0')) reject('the symlink target contains a NUL byte');
  if (target.includes('\uFFFD')) reject('the symlink target is not valid UTF-8');
  if (Buffer.byteLength(target) > limits.maxPathBytes) throw new ArchiveLimitExceededError('maxPathBytes', limits.maxPathBytes, header.name);
  return target;
}

/*
 * Allow-list: security.capability on regular files (so ping works), user.* on files and
 * directories. trusted.*, security.selinux/ima and POSIX ACLs (which embed unshifted ids) are
 * dropped with a warning rather than failing the import.
 */
function admitXattrs(header: TarEntryHeader, kind: PlannedEntryKind, reject: (reason: string) => never) {
  const xattrs: [string, Buffer][] = [];
  const warnings: string[] = [];
  if (header.xattrs.size > MAX_XATTRS) reject(`more than ${MAX_XATTRS} xattrs`);
  for (const [name, value] of header.xattrs) {
    if (name === '' || name.includes('\0') || Buffer.byteLength(name) > MAX_XATTR_NAME_BYTES) reject('an xattr name is empty or too long');
    if (value.length > MAX_XATTR_VALUE_BYTES) reject(`xattr ${name} is larger than ${MAX_XATTR_VALUE_BYTES} bytes`);
    const allowed = (name === 'security.capability' && kind === 'file') || (name.startsWith('user.') && (kind === 'file' || kind === 'directory'));
    if (allowed) xattrs.push([name, value]);
    else warnings.push(`${header.name}: dropped xattr ${name}`);
  }
  return { xattrs, warnings };
}
