import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TarEntryHeader } from './archive-entry.js';
import { DEFAULT_EXTRACTION_LIMITS } from './extraction-limits.js';
import { ArchiveLimitExceededError, MalformedImageError, UnsafeArchiveError } from './image.errors.js';
import { ImageLayoutPolicy, splitEntryName } from './image-layout-policy.js';

function header(name: string, fields: Partial<TarEntryHeader> = {}): TarEntryHeader {
  return { name, type: 'file', linkName: null, size: 0, mode: 0o644, uid: 0, gid: 0, mtime: { seconds: 1, nanoseconds: 0 }, devMajor: 0, devMinor: 0, xattrs: new Map(), ...fields };
}
const dir = (name: string) => header(name, { type: 'directory', mode: 0o755 });

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UnsafeArchiveError, String(error));
    return error.reason;
  }
  return assert.fail('accepted');
}

describe('splitEntryName', () => {
  it('accepts one leading "./" and one trailing "/", and "." as the root', () => {
    assert.deepEqual(splitEntryName('./rootfs/etc/', DEFAULT_EXTRACTION_LIMITS), ['rootfs', 'etc']);
    assert.deepEqual(splitEntryName('./', DEFAULT_EXTRACTION_LIMITS), []);
    assert.deepEqual(splitEntryName('.', DEFAULT_EXTRACTION_LIMITS), []);
  });

  it('refuses rather than normalises anything else unusual', () => {
    const cases: [string, RegExp][] = [
      ['/etc/x', /absolute/],
      ['////etc/x', /absolute/],
      ['rootfs/../../x', /"\.\."/],
      ['..', /"\.\."/],
      ['a/../b', /"\.\."/],
      ['rootfs//etc', /empty component/],
      ['././rootfs', /"\."/],
      ['rootfs/./etc', /"\."/],
      ['rootfs/a\0b', /NUL/],
      ['rootfs/\uFFFD', /UTF-8/],
      [`rootfs/${'x'.repeat(256)}`, /255 bytes/],
    ];
    for (const [name, expected] of cases) assert.match(reason(() => splitEntryName(name, DEFAULT_EXTRACTION_LIMITS)), expected, name);
  });

  it('caps length and depth with a limit error', () => {
    assert.throws(() => splitEntryName(`rootfs/${'a/'.repeat(2100)}`, DEFAULT_EXTRACTION_LIMITS), (e) => e instanceof ArchiveLimitExceededError && e.limit === 'maxPathBytes');
    assert.throws(() => splitEntryName(`rootfs/${'a/'.repeat(200)}`, DEFAULT_EXTRACTION_LIMITS), (e) => e instanceof ArchiveLimitExceededError && e.limit === 'maxPathDepth');
  });
});

describe('ImageLayoutPolicy', () => {
  const policy = () => new ImageLayoutPolicy(DEFAULT_EXTRACTION_LIMITS, 65536);

  it('creates missing parents below rootfs/ and lets a later directory entry apply to them once', () => {
    const p = policy();
    p.admit(dir('rootfs/'), 'unified');
    const file = p.admit(header('rootfs/a/b/c'), 'unified');
    assert.deepEqual(file.entries.map((e) => [e.path, e.kind, e.mayExist]), [
      ['rootfs/a', 'directory', false],
      ['rootfs/a/b', 'directory', false],
      ['rootfs/a/b/c', 'file', false],
    ]);
    assert.deepEqual(p.admit(dir('rootfs/a/'), 'unified').entries.map((e) => [e.path, e.mayExist]), [['rootfs/a', true]]);
    assert.match(reason(() => p.admit(dir('rootfs/a/'), 'unified')), /duplicate entry/);
  });

  it('creates rootfs/ and templates/ when their content comes first (as GNU tar does); a symlink there later is refused', () => {
    const p = policy();
    assert.deepEqual(p.admit(header('rootfs/etc/x'), 'unified').entries.map((e) => [e.path, e.kind, e.mode]), [
      ['rootfs', 'directory', 0o755],
      ['rootfs/etc', 'directory', 0o755],
      ['rootfs/etc/x', 'file', 0o644],
    ]);
    assert.deepEqual(p.admit(header('templates/a.tpl'), 'unified').entries.map((e) => e.path), ['templates', 'templates/a.tpl']);
    assert.deepEqual(p.admit(dir('rootfs/'), 'unified').entries.map((e) => [e.path, e.mayExist]), [['rootfs', true]]);
    assert.match(reason(() => p.admit(header('templates', { type: 'symlink', linkName: '/etc' }), 'unified')), /duplicate entry: templates/);
    assert.match(reason(() => policy().admit(header('metadata.yaml/x'), 'unified')), /metadata.yaml must be a regular file/);
  });

  it('drops the leading slashes of member names and hardlink targets, as GNU tar does', () => {
    const p = policy();
    assert.deepEqual(p.admit(header('/rootfs/etc/x'), 'unified').entries.map((e) => e.path), ['rootfs', 'rootfs/etc', 'rootfs/etc/x']);
    assert.deepEqual(p.admit(header('///rootfs/etc/y', { type: 'hardlink', linkName: '/rootfs/etc/x' }), 'unified').entries.map((e) => [e.path, e.linkTarget]), [['rootfs/etc/y', 'rootfs/etc/x']]);
    assert.match(reason(() => p.admit(header('/etc/passwd'), 'unified')), /unexpected top-level entry/);
    assert.match(reason(() => p.admit(header('/rootfs/../x'), 'unified')), /"\.\." component/);
    assert.deepEqual(policy().admit(dir('/'), 'rootfs').entries.map((e) => e.path), ['rootfs']);
  });

  it('requires rootfs/ and templates/ to be directories and metadata.yaml a file', () => {
    assert.match(reason(() => policy().admit(header('rootfs'), 'unified')), /rootfs\/ must be a directory/);
    assert.match(reason(() => policy().admit(header('metadata.yaml', { type: 'symlink', linkName: '/etc/passwd' }), 'unified')), /metadata.yaml must be a regular file/);
    assert.match(reason(() => policy().admit(dir('rootfs/'), 'metadata')), /unexpected top-level entry/);
  });

  it('maps the rootfs half of a split image under rootfs/', () => {
    const p = policy();
    assert.deepEqual(p.admit(dir('./'), 'rootfs').entries.map((e) => e.path), ['rootfs']);
    assert.deepEqual(p.admit(header('./etc'), 'rootfs').entries.map((e) => e.path), ['rootfs/etc']);
    assert.deepEqual(p.admit(header('h', { type: 'hardlink', linkName: './etc' }), 'rootfs').entries.map((e) => e.linkTarget), ['rootfs/etc']);
  });

  it('keeps the allow-listed xattrs and warns about the rest', () => {
    const p = policy();
    p.admit(dir('rootfs/'), 'unified');
    const xattrs = new Map([
      ['security.capability', Buffer.from([1])],
      ['user.note', Buffer.from('x')],
      ['trusted.overlay.opaque', Buffer.from('y')],
      ['security.selinux', Buffer.from('z')],
    ]);
    const admitted = p.admit(header('rootfs/ping', { xattrs }), 'unified');
    assert.deepEqual(admitted.entries[0].xattrs.map(([name]) => name), ['security.capability', 'user.note']);
    assert.deepEqual(admitted.warnings, ['rootfs/ping: dropped xattr trusted.overlay.opaque', 'rootfs/ping: dropped xattr security.selinux']);
  });

  it('refuses data on non-files, and finishes only with metadata.yaml and rootfs/', () => {
    const p = policy();
    p.admit(dir('rootfs/'), 'unified');
    assert.match(reason(() => p.admit(header('rootfs/l', { type: 'symlink', linkName: 'x', size: 10 }), 'unified')), /must not carry data/);
    assert.throws(() => p.finish(), MalformedImageError);
    p.admit(header('metadata.yaml'), 'unified');
    assert.deepEqual(p.finish(), [{ path: 'rootfs', mtime: { seconds: 1, nanoseconds: 0 } }]);
  });
});
