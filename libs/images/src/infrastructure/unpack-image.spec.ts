import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, chmodSync, linkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ArchiveLimitExceededError,
  CorruptArchiveError,
  FingerprintMismatchError,
  ImageExtractionFailedError,
  InvalidImageMetadataError,
  MalformedImageError,
  UnsafeArchiveError,
  UnsupportedImageFormatError,
} from '../domain/image.errors.js';
import {
  blocks,
  END_OF_ARCHIVE,
  gzip,
  gzipBomb,
  imageWithTinyEntries,
  METADATA_YAML,
  packTar,
  paxBody,
  rawHeader,
  rejection,
  Sandbox,
  sha256sumOf,
  unifiedImage,
  xz,
  zstd,
  type CraftedEntry,
} from '../testing/crafted-archives.js';
import { fingerprintImageFiles } from './image-fingerprint.js';
import { unpackImage, type UnpackImageRequest } from './unpack-image.js';

const helperPath = process.env.BERTH_UNPACK_HELPER;
const idShift = { uidShift: 100_000, gidShift: 100_000, range: 65_536 };
const sandboxes: Sandbox[] = [];
after(() => sandboxes.forEach((s) => s.cleanup()));

function sandbox(): Sandbox {
  const s = new Sandbox();
  sandboxes.push(s);
  return s;
}

type ImportOptions = Partial<Omit<UnpackImageRequest, 'files' | 'target'>>;

function importUnified(s: Sandbox, archive: Buffer, options: ImportOptions = {}) {
  const path = s.write('image.tar', archive);
  return unpackImage({ files: { kind: 'unified', path }, target: s.target, helperPath, idShift, ...options });
}

/** Imports `entries` as a unified image and expects UnsafeArchiveError naming `entry`; nothing may escape or remain. */
async function expectUnsafe(entries: CraftedEntry[], entry: string, reason: RegExp, options: ImportOptions = {}) {
  const s = sandbox();
  const error = await rejection(importUnified(s, gzip(await packTar(entries)), options), UnsafeArchiveError, 'IMAGE.UNSAFE_ARCHIVE');
  assert.equal(error.entry, entry);
  assert.match(error.reason, reason);
  assert.ok(error.message.includes(JSON.stringify(entry)), `the message names the entry: ${error.message}`);
  s.assertNothingEscaped();
  return error;
}

describe('unpackImage refuses unsafe names and leaves nothing behind', () => {
  it('refuses "../" names, at the top and inside rootfs/', async () => {
    await expectUnsafe(unifiedImage([{ name: 'rootfs/../../sentinel/pwned', content: 'x' }]), 'rootfs/../../sentinel/pwned', /"\.\." component/);
    await expectUnsafe(unifiedImage([{ name: '../sentinel/pwned', content: 'x' }]), '../sentinel/pwned', /"\.\." component/);
  });

  it('reads absolute and "////" names as GNU tar does, inside the target: an absolute path elsewhere is still refused', async () => {
    const s = new Sandbox();
    sandboxes.push(s);
    await expectUnsafe(unifiedImage([{ name: `${s.sentinel}/pwned`, content: 'x' }]), `${s.sentinel}/pwned`, /unexpected top-level entry/);
    await expectUnsafe(unifiedImage([{ name: `////${s.sentinel}/pwned`, content: 'x' }]), `////${s.sentinel}/pwned`, /unexpected top-level entry/);
    await expectUnsafe(unifiedImage([{ name: '/rootfs/../../sentinel/pwned', content: 'x' }]), '/rootfs/../../sentinel/pwned', /"\.\." component/);
  });

  it('refuses a PAX path=../x whatever the ustar name says', async () => {
    // pack writes the real name into a PAX record and "PaxHeader" into the ustar name field.
    const entries = unifiedImage([{ name: '../sentinel/pwned', content: 'x', pax: {} }]);
    const raw = await packTar(entries);
    assert.ok(raw.includes('path=../sentinel/pwned') && raw.includes('PaxHeader'), 'the archive really carries the name in PAX');
    await expectUnsafe(entries, '../sentinel/pwned', /"\.\." component/);
  });

  it('refuses top-level entries outside metadata.yaml, rootfs/ and templates/', async () => {
    await expectUnsafe(unifiedImage([{ name: 'etc/passwd', content: 'x' }]), 'etc/passwd', /unexpected top-level entry/);
  });

  it('refuses names that are too long or too deep before writing them', async () => {
    const s = sandbox();
    const long = `rootfs/${'a'.repeat(200)}/${'b'.repeat(200)}/`.repeat(11);
    const error = await rejection(importUnified(s, gzip(await packTar(unifiedImage([{ name: long, type: 'directory' }])))), ArchiveLimitExceededError, 'IMAGE.ARCHIVE_LIMIT_EXCEEDED');
    assert.equal(error.limit, 'maxPathBytes');
    const deep = `rootfs/${'d/'.repeat(200)}`;
    const s2 = sandbox();
    const depth = await rejection(importUnified(s2, gzip(await packTar(unifiedImage([{ name: deep, type: 'directory' }])))), ArchiveLimitExceededError, 'IMAGE.ARCHIVE_LIMIT_EXCEEDED');
    assert.equal(depth.limit, 'maxPathDepth');
    s.assertNothingEscaped();
    s2.assertNothingEscaped();
  });
});

describe('unpackImage never writes through symlinks or links outside the tree', () => {
  it('refuses a write through a symlink created just before (absolute and relative)', async () => {
    const s = new Sandbox();
    sandboxes.push(s);
    await expectUnsafe(
      unifiedImage([{ name: 'rootfs/escape', type: 'symlink', linkname: s.sentinel }, { name: 'rootfs/escape/pwned', content: 'x' }]),
      'rootfs/escape/pwned',
      /parent rootfs\/escape is a symlink/,
    );
    await expectUnsafe(
      unifiedImage([{ name: 'rootfs/up', type: 'symlink', linkname: '../../sentinel' }, { name: 'rootfs/up/pwned', content: 'x' }]),
      'rootfs/up/pwned',
      /parent rootfs\/up is a symlink/,
    );
  });

  it('refuses a directory replaced by a symlink, and a duplicate rootfs that is a symlink to /', async () => {
    const s = new Sandbox();
    sandboxes.push(s);
    await expectUnsafe(
      unifiedImage([{ name: 'rootfs/d/', type: 'directory' }, { name: 'rootfs/d', type: 'symlink', linkname: s.sentinel }, { name: 'rootfs/d/pwned', content: 'x' }]),
      'rootfs/d',
      /duplicate entry/,
    );
    await expectUnsafe(unifiedImage([{ name: 'rootfs', type: 'symlink', linkname: '/' }]), 'rootfs', /duplicate entry/);
    await expectUnsafe(
      [{ name: 'metadata.yaml', content: METADATA_YAML }, { name: 'rootfs', type: 'symlink', linkname: '/' }, { name: 'rootfs/etc/x', content: 'x' }],
      'rootfs',
      /rootfs\/ must be a directory/,
    );
  });

  it('refuses hardlinks to a file outside, to "../", to a symlink and to a directory', async () => {
    const s = new Sandbox();
    sandboxes.push(s);
    const notAFile = /not a regular file extracted earlier under rootfs/;
    await expectUnsafe(unifiedImage([{ name: 'rootfs/h', type: 'link', linkname: `${s.sentinel}/file` }]), 'rootfs/h', /unexpected top-level entry/);
    await expectUnsafe(unifiedImage([{ name: 'rootfs/h', type: 'link', linkname: '../sentinel/file' }]), 'rootfs/h', /"\.\." component/);
    await expectUnsafe(
      unifiedImage([{ name: 'rootfs/s', type: 'symlink', linkname: `${s.sentinel}/file` }, { name: 'rootfs/h', type: 'link', linkname: 'rootfs/s' }]),
      'rootfs/h',
      notAFile,
    );
    await expectUnsafe(unifiedImage([{ name: 'rootfs/d/', type: 'directory' }, { name: 'rootfs/h', type: 'link', linkname: 'rootfs/d' }]), 'rootfs/h', notAFile);
    await expectUnsafe(unifiedImage([{ name: 'rootfs/h', type: 'link', linkname: 'metadata.yaml' }]), 'rootfs/h', notAFile);
  });

  it('refuses anything but directories and regular files under templates/', async () => {
    await expectUnsafe(
      unifiedImage([{ name: 'templates/', type: 'directory' }, { name: 'templates/hostname.tpl', type: 'symlink', linkname: '/etc/shadow' }]),
      'templates/hostname.tpl',
      /templates\/ may only hold directories and regular files/,
    );
  });

  it('refuses a split rootfs whose root "." is a symlink', async () => {
    const s = sandbox();
    const metadataPath = s.write('meta.tar', await packTar([{ name: 'metadata.yaml', content: METADATA_YAML }]));
    const rootfsPath = s.write('rootfs.tar', await packTar([{ name: '.', type: 'symlink', linkname: s.sentinel }, { name: './pwned', content: 'x' }]));
    const error = await rejection(unpackImage({ files: { kind: 'split', metadataPath, rootfsPath }, target: s.target, helperPath }), UnsafeArchiveError, 'IMAGE.UNSAFE_ARCHIVE');
    assert.equal(error.entry, '.');
    s.assertNothingEscaped();
  });
});

describe('unpackImage refuses unsupported entries and owners', () => {
  it('refuses GNU sparse entries', async () => {
    const s = sandbox();
    const prefix = await packTar(unifiedImage([]));
    const archive = Buffer.concat([prefix.subarray(0, -1024), rawHeader({ name: 'rootfs/sparse', typeflag: 'S', size: 0 }), END_OF_ARCHIVE]);
    const error = await rejection(importUnified(s, archive), UnsafeArchiveError, 'IMAGE.UNSAFE_ARCHIVE');
    assert.equal(error.entry, 'rootfs/sparse');
    assert.match(error.reason, /unsupported entry type/);
    s.assertNothingEscaped();
  });

  it('refuses a global PAX header that renames entries', async () => {
    const s = sandbox();
    const prefix = await packTar(unifiedImage([]));
    const body = paxBody([['path', '../sentinel/pwned']]);
    const archive = Buffer.concat([prefix.subarray(0, -1024), rawHeader({ name: 'pax_global_header', typeflag: 'g', size: body.length }), blocks(body), END_OF_ARCHIVE]);
    const error = await rejection(importUnified(s, archive), UnsafeArchiveError, 'IMAGE.UNSAFE_ARCHIVE');
    assert.match(error.reason, /global PAX keyword path/);
    s.assertNothingEscaped();
  });

  it('refuses owners outside the container id range, and uid 4294967295 without a shift', async () => {
    await expectUnsafe(unifiedImage([{ name: 'rootfs/x', content: 'x', uid: 70_000 }]), 'rootfs/x', /uid 70000 is outside the id range 0-65535/);
    await expectUnsafe(unifiedImage([{ name: 'rootfs/x', content: 'x', pax: { uid: '4294967295' } }]), 'rootfs/x', /uid 4294967295 is outside/, { idShift: undefined });
  });
});

describe('unpackImage stops bombs at their caps', () => {
  it('refuses a PAX header over its cap, and one declaring 4 GiB before buffering it', async () => {
    const s = sandbox();
    const big = await rejection(
      importUnified(s, gzip(await packTar(unifiedImage([{ name: 'rootfs/x', content: 'x', pax: { comment: 'c'.repeat(200_000) } }])))),
      ArchiveLimitExceededError,
      'IMAGE.ARCHIVE_LIMIT_EXCEEDED',
    );
    assert.equal(big.limit, 'maxPaxHeaderBytes');

    const prefix = await packTar(unifiedImage([]));
    const lying = Buffer.concat([prefix.subarray(0, -1024), rawHeader({ name: 'PaxHeader', typeflag: 'x', size: 4 * 1024 ** 3 }), Buffer.alloc(64 * 1024, 0x61)]);
    const started = performance.now();
    const huge = await rejection(importUnified(sandbox(), lying), ArchiveLimitExceededError, 'IMAGE.ARCHIVE_LIMIT_EXCEEDED');
    assert.equal(huge.limit, 'maxPaxHeaderBytes');
    assert.ok(performance.now() - started < 2000, 'refused at the header, not after reading');
    s.assertNothingEscaped();
  });

  it('stops a gzip bomb (1 MB expanding to 1 GiB) at the byte cap, quickly and in bounded memory', async () => {
    const s = sandbox();
    const bomb = await gzipBomb(128, 8 * 1024 * 1024);
    assert.ok(bomb.length < 2 * 1024 * 1024, `the bomb is small (${bomb.length} bytes)`);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 5);
    const started = performance.now();
    try {
      const error = await rejection(importUnified(s, bomb, { limits: { maxTotalBytes: 64 * 1024 * 1024 } }), ArchiveLimitExceededError, 'IMAGE.ARCHIVE_LIMIT_EXCEEDED');
      assert.equal(error.limit, 'maxTotalBytes');
    } finally {
      clearInterval(sampler);
    }
    assert.ok(performance.now() - started < 5000, 'stopped quickly');
    assert.ok(rssPeak - rssBefore < 128 * 1024 * 1024, `memory stayed bounded (grew ${Math.round((rssPeak - rssBefore) / 1048576)} MiB)`);
    s.assertNothingEscaped();
  });

  it('stops a million tiny entries at the entry cap', async () => {
    const s = sandbox();
    const archive = await imageWithTinyEntries(1_000_000);
    const started = performance.now();
    const error = await rejection(importUnified(s, archive, { limits: { maxEntries: 10_000 } }), ArchiveLimitExceededError, 'IMAGE.ARCHIVE_LIMIT_EXCEEDED');
    assert.equal(error.limit, 'maxEntries');
    assert.equal(error.entry, 'rootfs/f0009998');
    assert.ok(performance.now() - started < 10_000, 'stopped at the cap, not at the end of the archive');
    s.assertNothingEscaped();
  });
});

describe('unpackImage refuses damaged archives and removes what it wrote', () => {
  // Incompressible, so that the compressed stream is long enough to damage in its middle.
  const content = randomBytes(100_000);
  const entries = unifiedImage([{ name: 'rootfs/etc/', type: 'directory' }, { name: 'rootfs/etc/big', content }]);

  it('refuses a tar cut inside an entry, and one cut at an entry boundary (no end blocks)', async () => {
    const tar = await packTar(entries);
    const s = sandbox();
    await rejection(importUnified(s, tar.subarray(0, tar.length - 1024 - 50_000)), CorruptArchiveError, 'IMAGE.CORRUPT_ARCHIVE');
    s.assertNothingEscaped();
    const s2 = sandbox();
    const error = await rejection(importUnified(s2, tar.subarray(0, tar.length - 1024)), CorruptArchiveError, 'IMAGE.CORRUPT_ARCHIVE');
    assert.match(error.message, /end-of-archive/);
    s2.assertNothingEscaped();
  });

  it('refuses a truncated gzip, a corrupt gzip and a bad tar checksum', async () => {
    const compressed = gzip(await packTar(entries));
    const s = sandbox();
    await rejection(importUnified(s, compressed.subarray(0, compressed.length - 20)), CorruptArchiveError, 'IMAGE.CORRUPT_ARCHIVE');
    s.assertNothingEscaped();

    const corrupt = Buffer.from(compressed);
    for (let i = 50_000; i < 50_060; i++) corrupt[i] ^= 0x5a;
    const s2 = sandbox();
    await rejection(importUnified(s2, corrupt), CorruptArchiveError, 'IMAGE.CORRUPT_ARCHIVE');
    s2.assertNothingEscaped();

    const prefix = await packTar(unifiedImage([]));
    const s3 = sandbox();
    const badChecksum = Buffer.concat([prefix.subarray(0, -1024), rawHeader({ name: 'rootfs/x', typeflag: '0', checksum: 1 }), END_OF_ARCHIVE]);
    const error = await rejection(importUnified(s3, badChecksum), CorruptArchiveError, 'IMAGE.CORRUPT_ARCHIVE');
    assert.match(error.message, /checksum|Invalid tar header/);
    s3.assertNothingEscaped();
  });

  it('refuses truncated xz and zstd streams', async () => {
    const tar = await packTar(entries);
    for (const compressed of [xz(tar), zstd(tar)]) {
      const s = sandbox();
      await rejection(importUnified(s, compressed.subarray(0, compressed.length - 30)), CorruptArchiveError, 'IMAGE.CORRUPT_ARCHIVE');
      s.assertNothingEscaped();
    }
  });

  it('refuses bzip2 and other unknown formats', async () => {
    const s = sandbox();
    await rejection(importUnified(s, Buffer.from('BZh91AY&SY not really')), UnsupportedImageFormatError, 'IMAGE.UNSUPPORTED_FORMAT');
    s.assertNothingEscaped();
  });
});

describe('unpackImage refuses images that are not valid, after writing them', () => {
  it('refuses bad metadata.yaml, naming the field', async () => {
    const s = sandbox();
    const archive = gzip(await packTar([{ name: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: yes\n' }, { name: 'rootfs/', type: 'directory' }]));
    const error = await rejection(importUnified(s, archive), InvalidImageMetadataError, 'IMAGE.INVALID_METADATA');
    assert.equal(error.field, 'creation_date');
    s.assertNothingEscaped();
  });

  it('refuses an image without rootfs/, and a template missing from templates/', async () => {
    const s = sandbox();
    await rejection(importUnified(s, gzip(await packTar([{ name: 'metadata.yaml', content: METADATA_YAML }]))), MalformedImageError, 'IMAGE.MALFORMED');
    s.assertNothingEscaped();
    const s2 = sandbox();
    const metadata = `${METADATA_YAML}templates:\n  /etc/hostname:\n    when: [create]\n    template: hostname.tpl\n`;
    const error = await rejection(
      importUnified(s2, gzip(await packTar([{ name: 'metadata.yaml', content: metadata }, { name: 'rootfs/', type: 'directory' }]))),
      InvalidImageMetadataError,
      'IMAGE.INVALID_METADATA',
    );
    assert.equal(error.field, 'templates["/etc/hostname"].template');
    s2.assertNothingEscaped();
  });

  it('refuses a fingerprint other than the expected one and removes the finished tree', async () => {
    const s = sandbox();
    const error = await rejection(importUnified(s, gzip(await packTar(unifiedImage([{ name: 'rootfs/x', content: 'x' }]))), { expectedFingerprint: 'ab'.repeat(32) }), FingerprintMismatchError, 'IMAGE.FINGERPRINT_MISMATCH');
    assert.equal(error.actual, sha256sumOf(join(s.base, 'image.tar')));
    s.assertNothingEscaped();
  });

  it('refuses a target that already exists and leaves it as it was', async () => {
    const s = sandbox();
    mkdirSync(s.target);
    writeFileSync(join(s.target, 'keep'), 'mine');
    const error = await rejection(importUnified(s, gzip(await packTar(unifiedImage([])))), ImageExtractionFailedError, 'IMAGE.EXTRACTION_FAILED');
    assert.deepEqual([error.syscall, error.errno, error.path], ['mkdir', 'EEXIST', s.target]);
    assert.equal(readFileSync(join(s.target, 'keep'), 'utf8'), 'mine');
  });

  it('stops and cleans up when the import is aborted', async () => {
    const s = sandbox();
    const controller = new AbortController();
    const archive = gzip(await packTar(unifiedImage(Array.from({ length: 200 }, (_, i) => ({ name: `rootfs/f${i}`, content: Buffer.alloc(64 * 1024, i) })))));
    const importing = importUnified(s, archive, { signal: controller.signal, onProgress: () => controller.abort(new Error('client went away')) });
    await assert.rejects(importing, /client went away/);
    s.assertNothingEscaped();
  });
});

describe('unpackImage extracts valid images faithfully', () => {
  const capNetRawV2 = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const metadataWithTemplate = `${METADATA_YAML}expiry_date: 1900000000\ntemplates:\n  /etc/hostname:\n    when: [create, copy]\n    template: hostname.tpl\n    properties:\n      default: berth\n`;
  const unified: CraftedEntry[] = [
    { name: 'metadata.yaml', content: metadataWithTemplate },
    { name: 'rootfs/', type: 'directory', mode: 0o755 },
    { name: 'rootfs/usr/', type: 'directory', mode: 0o755, mtime: new Date(1_600_000_000_000) },
    { name: 'rootfs/usr/bin/', type: 'directory', mode: 0o755, mtime: new Date(1_600_000_000_000) },
    {
      name: 'rootfs/usr/bin/ping',
      content: 'ELF pretend',
      mode: 0o4755,
      pax: { 'LIBARCHIVE.xattr.security.capability': capNetRawV2.toString('base64'), mtime: '1600000000.5', 'SCHILY.xattr.user.origin': 'crafted' },
    },
    { name: 'rootfs/usr/bin/ping6', type: 'link', linkname: 'rootfs/usr/bin/ping' },
    { name: 'rootfs/usr/bin/sh', type: 'symlink', linkname: '/usr/bin/busybox' },
    { name: 'rootfs/home/alice/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
    { name: 'rootfs/home/alice/notes', content: 'secret', mode: 0o600, uid: 1000, gid: 1000 },
    { name: 'rootfs/dev/', type: 'directory' },
    { name: 'rootfs/dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'rootfs/run/initctl', type: 'fifo', mode: 0o600 },
    { name: 'templates/', type: 'directory' },
    { name: 'templates/hostname.tpl', content: '{{ container.name }}\n' },
  ];

  it('extracts a unified xz image: modes, shifted owners, setuid, links, capability, times, fingerprint', async () => {
    const s = sandbox();
    const path = s.write('image.tar.xz', xz(await packTar(unified)));
    const image = await unpackImage({ files: { kind: 'unified', path }, target: s.target, helperPath, idShift });
    const root = join(s.target, 'rootfs');

    assert.equal(image.fingerprint, sha256sumOf(path));
    assert.equal(image.fingerprint, await fingerprintImageFiles({ kind: 'unified', path }));
    assert.deepEqual(image.compression, ['xz']);
    assert.equal(image.metadata.architecture, 'x86_64');
    assert.equal(image.metadata.expiryDate, 1_900_000_000);
    assert.deepEqual(image.metadata.templates, [{ path: '/etc/hostname', template: 'hostname.tpl', when: ['create', 'copy'], createOnly: false, properties: { default: 'berth' } }]);
    assert.equal(readFileSync(join(s.target, 'metadata.yaml'), 'utf8'), metadataWithTemplate);

    const target = statSync(s.target);
    assert.equal(target.mode & 0o7777, 0o700, 'setuid files sit under a root-only 0700 parent');
    assert.equal(target.uid, 0);
    const ping = statSync(join(root, 'usr/bin/ping'), { bigint: true });
    assert.equal(Number(ping.mode) & 0o7777, 0o4755, 'setuid survives the chown');
    assert.equal(ping.uid, 100_000n);
    assert.equal(ping.mtimeNs, 1_600_000_000_500_000_000n);
    assert.equal(ping.nlink, 2n);
    assert.equal(statSync(join(root, 'usr/bin/ping6')).ino, Number(ping.ino));
    assert.match(execFileSync('/usr/sbin/getcap', ['-n', join(root, 'usr/bin/ping')], { encoding: 'utf8' }), /cap_net_raw=ep \[rootid=100000\]/);
    const sh = lstatSync(join(root, 'usr/bin/sh'));
    assert.ok(sh.isSymbolicLink());
    assert.equal(readlinkSync(join(root, 'usr/bin/sh')), '/usr/bin/busybox');
    assert.equal(sh.uid, 100_000);
    const alice = statSync(join(root, 'home/alice'));
    assert.deepEqual([alice.mode & 0o7777, alice.uid, alice.gid], [0o700, 101_000, 101_000]);
    const notes = statSync(join(root, 'home/alice/notes'));
    assert.deepEqual([notes.mode & 0o7777, notes.uid, readFileSync(join(root, 'home/alice/notes'), 'utf8')], [0o600, 101_000, 'secret']);
    assert.equal(statSync(join(root, 'home')).uid, 100_000, 'an implicit parent belongs to the container root');
    assert.equal(statSync(join(root, 'usr/bin')).mtimeMs, 1_600_000_000_000, 'directory times are set after their content');

    assert.ok(!existsSync(join(root, 'dev/null')) && !existsSync(join(root, 'run/initctl')), 'no device or FIFO in an unprivileged target');
    assert.ok(image.warnings.some((w) => w.includes('rootfs/dev/null') && /device node/.test(w)));
    assert.ok(image.warnings.some((w) => w.includes('rootfs/run/initctl') && /FIFO/.test(w)));
    assert.equal(readFileSync(join(s.target, 'templates/hostname.tpl'), 'utf8'), '{{ container.name }}\n');
  });

  it('takes absolute member names as GNU tar does (leading slashes dropped), links included, all inside the target', async () => {
    const s = sandbox();
    const archive = await packTar([
      { name: '/metadata.yaml', content: METADATA_YAML },
      { name: '/rootfs/', type: 'directory', mode: 0o755 },
      { name: '/rootfs/etc/', type: 'directory', mode: 0o755 },
      { name: '/rootfs/etc/motd', content: 'absolute\n' },
      { name: '////rootfs/etc/issue', content: 'slashes\n' },
      { name: '/rootfs/etc/motd.link', type: 'link', linkname: '/rootfs/etc/motd' },
    ]);
    await importUnified(s, gzip(archive));
    assert.equal(readFileSync(join(s.target, 'rootfs/etc/motd'), 'utf8'), 'absolute\n');
    assert.equal(readFileSync(join(s.target, 'rootfs/etc/issue'), 'utf8'), 'slashes\n');
    assert.equal(statSync(join(s.target, 'rootfs/etc/motd.link')).ino, statSync(join(s.target, 'rootfs/etc/motd')).ino);
  });

  it('takes entries before their parent directory, rootfs/ and templates/ included; a later entry sets the parent', async () => {
    const s = sandbox();
    const metadata = `${METADATA_YAML}templates:\n  /etc/hostname:\n    when: [create]\n    template: hostname.tpl\n`;
    const archive = await packTar([
      { name: 'rootfs/etc/motd', content: 'early\n' },
      { name: 'templates/hostname.tpl', content: '{{ container.name }}\n' },
      { name: 'metadata.yaml', content: metadata },
      { name: 'rootfs/etc/', type: 'directory', mode: 0o750 },
      { name: 'rootfs/', type: 'directory', mode: 0o711 },
    ]);
    const image = await importUnified(s, gzip(archive));
    assert.equal(readFileSync(join(s.target, 'rootfs/etc/motd'), 'utf8'), 'early\n');
    assert.equal(readFileSync(join(s.target, 'templates/hostname.tpl'), 'utf8'), '{{ container.name }}\n');
    assert.equal(statSync(join(s.target, 'rootfs')).mode & 0o7777, 0o711);
    assert.equal(statSync(join(s.target, 'rootfs/etc')).mode & 0o7777, 0o750);
    assert.equal(statSync(join(s.target, 'templates')).mode & 0o7777, 0o755, 'an implicit parent is 0755');
    assert.deepEqual(image.metadata.templates.map((t) => t.template), ['hostname.tpl']);
  });

  it('takes an empty template trigger list (`when: []`, `when:` or none), as LXD does', async () => {
    const s = sandbox();
    const metadata = `${METADATA_YAML}templates:\n  /etc/a:\n    when: []\n    template: a.tpl\n  /etc/b:\n    when:\n    template: a.tpl\n  /etc/c:\n    template: a.tpl\n`;
    const archive = await packTar([
      { name: 'metadata.yaml', content: metadata },
      { name: 'rootfs/', type: 'directory', mode: 0o755 },
      { name: 'templates/', type: 'directory', mode: 0o755 },
      { name: 'templates/a.tpl', content: 'a\n' },
    ]);
    const image = await importUnified(s, gzip(archive));
    assert.deepEqual(image.metadata.templates.map((t) => [t.path, t.when]), [['/etc/a', []], ['/etc/b', []], ['/etc/c', []]]);
  });

  it('creates device nodes and FIFOs only for a privileged target', async () => {
    const s = sandbox();
    const path = s.write('image.tar.gz', gzip(await packTar(unified)));
    const image = await unpackImage({ files: { kind: 'unified', path }, target: s.target, helperPath, privileged: true });
    const devNull = statSync(join(s.target, 'rootfs/dev/null'));
    assert.ok(devNull.isCharacterDevice());
    assert.equal(devNull.rdev, (1 << 8) | 3);
    assert.ok(lstatSync(join(s.target, 'rootfs/run/initctl')).isFIFO());
    assert.equal(statSync(join(s.target, 'rootfs/usr/bin/ping')).uid, 0, 'no shift: owners as in the archive');
    assert.match(execFileSync('/usr/sbin/getcap', ['-n', join(s.target, 'rootfs/usr/bin/ping')], { encoding: 'utf8' }), /cap_net_raw=ep\n?$/);
    assert.deepEqual(image.warnings, []);
  });

  it('extracts a split image (gzip metadata, zstd rootfs) with the fingerprint of both files', async () => {
    const s = sandbox();
    const metadataPath = s.write('meta.tar.gz', gzip(await packTar([{ name: 'metadata.yaml', content: METADATA_YAML }])));
    const rootfsPath = s.write(
      'rootfs.tar.zst',
      zstd(
        await packTar([
          { name: './', type: 'directory', mode: 0o755 },
          { name: './etc/', type: 'directory', mode: 0o755 },
          { name: './etc/hostname', content: 'berth\n', uid: 0, gid: 0 },
          { name: './etc/hostname.bak', type: 'link', linkname: './etc/hostname' },
          { name: './var/lib/x', content: 'implicit parents', uid: 42, gid: 43 },
        ]),
      ),
    );
    const image = await unpackImage({ files: { kind: 'split', metadataPath, rootfsPath }, target: s.target, helperPath, idShift });
    assert.equal(image.fingerprint, sha256sumOf(metadataPath, rootfsPath));
    assert.equal(image.fingerprint, await fingerprintImageFiles({ kind: 'split', metadataPath, rootfsPath }));
    assert.deepEqual(image.compression, ['gzip', 'zstd']);
    assert.equal(image.type, 'split');
    assert.equal(readFileSync(join(s.target, 'rootfs/etc/hostname'), 'utf8'), 'berth\n');
    assert.equal(statSync(join(s.target, 'rootfs/etc/hostname.bak')).ino, statSync(join(s.target, 'rootfs/etc/hostname')).ino);
    assert.deepEqual([statSync(join(s.target, 'rootfs/var/lib/x')).uid, statSync(join(s.target, 'rootfs/var/lib/x')).gid], [100_042, 100_043]);
    assert.equal(statSync(join(s.target, 'rootfs')).uid, 100_000);
  });

  it('reads what GNU tar writes: binary SCHILY.xattr capabilities, setuid, hardlinks', async () => {
    const s = sandbox();
    const tree = join(s.base, 'tree');
    mkdirSync(join(tree, 'rootfs/bin'), { recursive: true });
    writeFileSync(join(tree, 'metadata.yaml'), METADATA_YAML);
    writeFileSync(join(tree, 'rootfs/bin/ping'), 'pretend');
    chmodSync(join(tree, 'rootfs/bin/ping'), 0o4755);
    // cap_setuid is bit 7: a value byte >= 0x80, which a UTF-8 decoding of the PAX value would destroy.
    execFileSync('/usr/sbin/setcap', ['cap_net_raw,cap_setuid+ep', join(tree, 'rootfs/bin/ping')]);
    linkSync(join(tree, 'rootfs/bin/ping'), join(tree, 'rootfs/bin/ping6'));
    symlinkSync('ping', join(tree, 'rootfs/bin/ping4'));
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', tree, '-cJf', join(s.base, 'gnu.tar.xz'), 'metadata.yaml', 'rootfs']);
    const image = await unpackImage({ files: { kind: 'unified', path: join(s.base, 'gnu.tar.xz') }, target: s.target, helperPath, idShift });
    const ping = join(s.target, 'rootfs/bin/ping');
    assert.match(execFileSync('/usr/sbin/getcap', ['-n', ping], { encoding: 'utf8' }), /cap_setuid,cap_net_raw=ep \[rootid=100000\]/);
    assert.equal(statSync(ping).mode & 0o7777, 0o4755);
    assert.equal(statSync(join(s.target, 'rootfs/bin/ping6')).ino, statSync(ping).ino);
    assert.equal(readlinkSync(join(s.target, 'rootfs/bin/ping4')), 'ping');
    assert.equal(image.fingerprint, sha256sumOf(join(s.base, 'gnu.tar.xz')));
  });
});
