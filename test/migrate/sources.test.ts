// VM sources read into a root filesystem, for real and as root: tarballs, a directory, raw GPT and
// MBR disks read by fuse2fs (and by the kernel fallback), qcow2; and hostile or broken sources,
// each refused with a typed error and nothing left behind (no target, mount, loop device or process).
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { gzipSync } from 'node:zlib';
import { AlreadyExistsError } from '#core';
import { CorruptArchiveError, UnsafeArchiveError } from '../../libs/images/src/domain/image.errors.js';
import {
  extractGuest,
  type ExtractGuestProgress,
  type ExtractGuestRequest,
  NoRootPartitionError,
  NotARootFilesystemError,
  SourceDisappearedError,
  SourceNotFoundError,
  UnsupportedDiskImageError,
} from '../../libs/migrate/src/sources/index.js';
import {
  assertNothingLeft,
  buildQcow2,
  buildRawDisk,
  buildTarball,
  buildTinyRootfs,
  GPT_LINUX_DATA,
  GPT_LINUX_ROOT_X86_64,
  GPT_LINUX_SWAP,
  listTree,
  type ListedEntry,
  mountsSeenBy,
  Sandbox,
  withoutLostAndFound,
  withoutSpecialFiles,
  writeSwap,
} from './support.js';

const helperPath = process.env.BERTH_UNPACK_HELPER;
const sandboxes: Sandbox[] = [];
function sandbox(): Sandbox {
  const s = new Sandbox();
  sandboxes.push(s);
  return s;
}
after(() => sandboxes.forEach((s) => s.cleanup()));

let shared: Sandbox;
let rootfs: string;
let expected: ListedEntry[];

before(async () => {
  shared = sandbox();
  rootfs = await buildTinyRootfs(shared.path('rootfs'));
  expected = withoutSpecialFiles(await listTree(rootfs));
});

function extract(s: Sandbox, source: string, options: Partial<ExtractGuestRequest> = {}) {
  return extractGuest({ source, target: s.target, helperPath, workDir: s.dir, ...options });
}

/** The target holds the tiny rootfs exactly: owners, modes, times, contents, xattrs, symlinks, hardlinks. */
async function assertSameTree(target: string, options: { fromDisk?: boolean } = {}) {
  let actual = await listTree(target);
  if (options.fromDisk === true) {
    // mkfs.ext4 -d creates lost+found after copying the tree, which gives the filesystem's root a new mtime.
    actual = withoutLostAndFound(actual);
    assert.equal(actual[0].path, '.');
    actual[0] = { ...actual[0], mtime: expected[0].mtime };
  }
  assert.deepEqual(actual, expected);

  const evil = join(target, 'etc/evil');
  assert.ok(lstatSync(evil).isSymbolicLink(), 'etc/evil is a symlink');
  assert.equal(readlinkSync(evil), '/etc/shadow', 'stored verbatim, never followed');
  assert.equal(statSync(join(target, 'usr/bin/ping')).ino, statSync(join(target, 'usr/bin/ping4')).ino, 'the hardlink is kept');
  const user = statSync(join(target, 'home/user/.profile'));
  assert.deepEqual([user.uid, user.gid, user.mode & 0o7777], [1001, 1001, 0o600]);
  const ping = expected.find((e) => e.path === 'usr/bin/ping');
  assert.ok(ping?.xattrs['security.capability'] !== undefined, 'the source really has a file capability');
  assert.equal(statSync(target).mode & 0o7777, 0o755, 'the root directory has the mode of the source root');
}

function assertDroppedSpecialFiles(target: string, warnings: readonly string[]) {
  for (const path of ['dev/console', 'run/initctl']) {
    assert.ok(
      warnings.some((w) => w.includes(path)),
      `${path} is dropped with a warning: ${warnings.join('; ')}`,
    );
    assert.ok(!existsSync(join(target, path)));
  }
}

/** Runs a failing extraction: the typed error, and afterwards no target and nothing mounted, attached or running. */
async function expectFailure<E extends Error>(s: Sandbox, promise: Promise<unknown>, type: new (...args: never[]) => E, code: string): Promise<E> {
  const error = await promise.then(
    () => assert.fail('the extraction succeeded'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  assert.equal((error as E & { code: string }).code, code);
  assert.ok(!existsSync(s.target), 'the target does not exist');
  assert.deepEqual(readdirSync(s.sentinel), [], 'nothing was written outside the target');
  assert.deepEqual(
    readdirSync(s.dir).filter((name) => name.startsWith('.berth-vm-source-')),
    [],
    'no scratch directory is left',
  );
  await assertNothingLeft(s.dir);
  return error as E;
}

describe('extractGuest: tarballs', () => {
  it('unpacks a gzip tarball made like `tar --numeric-owner --xattrs --acls -cpf - /`', async () => {
    const s = sandbox();
    const tarball = await buildTarball(rootfs, s.path('vm.tar.gz'), 'gzip');
    const progress: ExtractGuestProgress[] = [];
    const guest = await extract(s, tarball, { onProgress: (p) => progress.push(p) });
    assert.equal(guest.kind, 'tarball');
    await assertSameTree(s.target);
    assertDroppedSpecialFiles(s.target, guest.warnings);
    assert.equal(guest.entries, expected.length - 1, 'every entry but the root, which is the target itself');
    assert.equal(guest.bytesWritten, expected.filter((e) => e.type === 'file' && e.hardlinkOf === undefined).reduce((sum, e) => sum + (e.size ?? 0), 0));
    assert.equal(guest.partition, undefined);
    const last = progress.at(-1);
    assert.equal(last?.phase, 'copy');
    assert.equal(last?.bytesRead, statSync(tarball).size);
    assert.equal(last?.totalBytes, statSync(tarball).size);
    await assertNothingLeft(s.dir);
  });

  it('unpacks a zstd tarball the same way', async () => {
    const s = sandbox();
    const guest = await extract(s, await buildTarball(rootfs, s.path('vm.tar.zst'), 'zstd'));
    assert.equal(guest.kind, 'tarball');
    await assertSameTree(s.target);
  });
});

describe('extractGuest: a directory', () => {
  it('copies the tree without following symlinks, and leaves the source exactly as it was (times included)', async () => {
    const s = sandbox();
    // A fresh tree: with relatime, only a first read after a change would update an access time.
    const source = await buildTinyRootfs(s.path('vm-root'));
    const before = await listTree(source, { allTimes: true });
    const guest = await extract(s, source);
    assert.equal(guest.kind, 'directory');
    await assertSameTree(s.target);
    assertDroppedSpecialFiles(s.target, guest.warnings);
    assert.deepEqual(await listTree(source, { allTimes: true }), before, 'not even an access time of the source changed');
    await assertNothingLeft(s.dir);
  });
});

describe('extractGuest: raw disks', () => {
  it('reads the x86-64 root partition of a GPT disk with fuse2fs, mounted only in a private namespace', async () => {
    const s = sandbox();
    const disk = s.path('vm.raw');
    const table = await buildRawDisk(disk, 'gpt', 64, [{ type: GPT_LINUX_SWAP, sectors: 8192 }, { type: GPT_LINUX_ROOT_X86_64, tree: rootfs }]);
    await writeSwap(disk, table[0].start, table[0].size);
    const diskBefore = readFileSync(disk);

    const privateMounts: string[][] = [];
    const hostMounts: string[] = [];
    const guest = await extract(s, disk, {
      onProgress: (p) => {
        if (p.phase !== 'copy' || privateMounts.length > 0) return;
        privateMounts.push(mountsSeenBy('fuse2fs', s.dir));
        hostMounts.push(...readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(s.dir)));
      },
    });
    assert.equal(guest.kind, 'raw');
    assert.match(guest.reader ?? '', /^fuse2fs/);
    assert.deepEqual(guest.partition, { table: 'gpt', index: 2, type: GPT_LINUX_ROOT_X86_64, start: table[1].start * 512, size: table[1].size * 512, filesystem: 'ext4' });
    await assertSameTree(s.target, { fromDisk: true });
    assertDroppedSpecialFiles(s.target, guest.warnings);
    assert.equal(privateMounts[0]?.length, 1, `while copying, fuse2fs sees its mount in its own namespace: ${JSON.stringify(privateMounts)}`);
    assert.match(privateMounts[0][0], /fuse/);
    assert.deepEqual(hostMounts, [], 'the host never sees it');
    assert.ok(readFileSync(disk).equals(diskBefore), 'the disk image is unchanged');
    await assertNothingLeft(s.dir);
  });

  it('reads a logical partition of an MBR disk (swap, then an extended partition holding the root)', async () => {
    const s = sandbox();
    const disk = s.path('vm.raw');
    const table = await buildRawDisk(disk, 'dos', 64, [
      { type: '82', sectors: 8192 },
      { type: '5', logical: [{ type: '83', tree: rootfs }] },
    ]);
    const guest = await extract(s, disk);
    assert.deepEqual(guest.partition, { table: 'mbr', index: 5, type: '0x83', start: table[2].start * 512, size: table[2].size * 512, filesystem: 'ext4' });
    await assertSameTree(s.target, { fromDisk: true });
    await assertNothingLeft(s.dir);
  });

  it('prefers the partition holding os-release over a larger Linux partition without one', async () => {
    const s = sandbox();
    const home = s.path('home-tree');
    mkdirSync(join(home, 'user'), { recursive: true });
    writeFileSync(join(home, 'user/notes'), 'not a root\n');
    const table = await buildRawDisk(s.path('vm.raw'), 'gpt', 96, [
      { type: GPT_LINUX_DATA, sectors: 40960, tree: rootfs },
      { type: GPT_LINUX_DATA, tree: home },
    ]);
    assert.ok(table[1].size > table[0].size, 'the partition without os-release is the larger one');
    const guest = await extract(s, s.path('vm.raw'));
    assert.equal(guest.partition?.index, 1);
    await assertSameTree(s.target, { fromDisk: true });
  });

  it('falls back to a kernel read-only loop mount in the private namespace, detached afterwards', async () => {
    const s = sandbox();
    await buildRawDisk(s.path('vm.raw'), 'gpt', 64, [{ type: GPT_LINUX_ROOT_X86_64, tree: rootfs }]);
    const guest = await extract(s, s.path('vm.raw'), { diskReader: 'kernel' });
    assert.match(guest.reader ?? '', /^kernel ext4 driver, read-only loop mount/);
    await assertSameTree(s.target, { fromDisk: true });
    await assertNothingLeft(s.dir);
  });
});

describe('extractGuest: qcow2', () => {
  it('converts to raw in the work directory, reads it like a raw disk, and removes the conversion', async () => {
    const s = sandbox();
    await buildRawDisk(s.path('vm.raw'), 'gpt', 64, [{ type: GPT_LINUX_ROOT_X86_64, tree: rootfs }]);
    const qcow2 = await buildQcow2(s.path('vm.raw'), s.path('vm.qcow2'));
    const phases = new Set<string>();
    const guest = await extract(s, qcow2, { onProgress: (p) => phases.add(p.phase) });
    assert.equal(guest.kind, 'qcow2');
    assert.equal(guest.partition?.filesystem, 'ext4');
    assert.deepEqual([...phases], ['convert', 'scan', 'copy']);
    await assertSameTree(s.target, { fromDisk: true });
    assert.deepEqual(readdirSync(s.dir).sort(), ['sentinel', 'target', 'vm.qcow2', 'vm.raw'], 'the converted raw file is gone');
    await assertNothingLeft(s.dir);
  });

  it('refuses a qcow2 with a backing file (a path chosen by the image)', async () => {
    const s = sandbox();
    await buildRawDisk(s.path('vm.raw'), 'gpt', 64, [{ type: GPT_LINUX_ROOT_X86_64, tree: rootfs }]);
    const overlay = await buildQcow2(s.path('vm.raw'), s.path('overlay.qcow2'), { backingFile: s.path('vm.raw') });
    const error = await expectFailure(s, extract(s, overlay), UnsupportedDiskImageError, 'MIGRATE.UNSUPPORTED_DISK_IMAGE');
    assert.match(error.message, /backing file/);
  });
});

describe('extractGuest refuses bad sources and leaves nothing behind', () => {
  it('a truncated tarball', async () => {
    const s = sandbox();
    const tarball = await buildTarball(rootfs, s.path('vm.tar'), 'none');
    truncateSync(tarball, Math.floor(statSync(tarball).size / 2));
    await expectFailure(s, extract(s, tarball), CorruptArchiveError, 'IMAGE.CORRUPT_ARCHIVE');
  });

  it('a disk with only a swap partition, naming what it found', async () => {
    const s = sandbox();
    const table = await buildRawDisk(s.path('swap.raw'), 'gpt', 16, [{ type: GPT_LINUX_SWAP }]);
    await writeSwap(s.path('swap.raw'), table[0].start, table[0].size);
    const error = await expectFailure(s, extract(s, s.path('swap.raw')), NoRootPartitionError, 'MIGRATE.NO_ROOT_PARTITION');
    assert.equal(error.partitions.length, 1);
    assert.match(error.partitions[0], /^#1 Linux swap \(0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\)/);
    assert.match(error.message, /has no Linux root partition \(found: #1 Linux swap/);
  });

  it('a disk whose only Linux partition is not a root filesystem', async () => {
    const s = sandbox();
    const data = s.path('data');
    mkdirSync(join(data, 'srv'), { recursive: true });
    await buildRawDisk(s.path('data.raw'), 'dos', 32, [{ type: '83', tree: data }]);
    const error = await expectFailure(s, extract(s, s.path('data.raw')), NoRootPartitionError, 'MIGRATE.NO_ROOT_PARTITION');
    assert.match(error.partitions[0], /#1 Linux filesystem \(0x83\).*: no etc\/os-release or usr\/lib\/os-release/);
  });

  it('a directory that is not a root filesystem', async () => {
    const s = sandbox();
    const notRoot = await buildTinyRootfs(s.path('not-root'), { osRelease: false });
    const error = await expectFailure(s, extract(s, notRoot), NotARootFilesystemError, 'MIGRATE.NOT_A_ROOT_FILESYSTEM');
    assert.equal(error.source, notRoot);
  });

  it('a missing source', async () => {
    const s = sandbox();
    const error = await expectFailure(s, extract(s, s.path('nowhere.tar.gz')), SourceNotFoundError, 'MIGRATE.SOURCE_NOT_FOUND');
    assert.equal(error.source, s.path('nowhere.tar.gz'));
  });

  it('a tarball with a "../" entry', async () => {
    const s = sandbox();
    const tarball = s.path('evil.tar.gz');
    writeFileSync(tarball, gzipSync(await tarOf([dir('./'), dir('./etc/'), file('./etc/os-release', 'ID=evil\n'), file('./../sentinel/pwned', 'x')])));
    const error = await expectFailure(s, extract(s, tarball), UnsafeArchiveError, 'IMAGE.UNSAFE_ARCHIVE');
    assert.match(error.reason, /"\.\." component/);
  });

  it('a tarball writing through an absolute symlink it planted', async () => {
    const s = sandbox();
    const tarball = s.path('evil.tar.gz');
    const entries = [dir('./'), dir('./etc/'), file('./etc/os-release', 'ID=evil\n'), { name: './escape', type: 'symlink' as const, linkname: s.sentinel }, file('./escape/pwned', 'x')];
    writeFileSync(tarball, gzipSync(await tarOf(entries)));
    const error = await expectFailure(s, extract(s, tarball), UnsafeArchiveError, 'IMAGE.UNSAFE_ARCHIVE');
    assert.equal(error.entry, './escape/pwned');
    assert.match(error.reason, /parent escape is a symlink/);
  });

  it('an existing target, which is left alone', async () => {
    const s = sandbox();
    mkdirSync(s.target);
    writeFileSync(join(s.target, 'keep'), 'mine');
    await assert.rejects(extract(s, rootfs), (e) => e instanceof AlreadyExistsError);
    assert.equal(readFileSync(join(s.target, 'keep'), 'utf8'), 'mine');
  });

  it('a directory that disappears while it is read', async () => {
    const s = sandbox();
    const source = await buildTinyRootfs(s.path('vm-root'));
    // 8 MiB in 2000 files: far more than the pipes and stream buffers hold when the first bytes arrive.
    mkdirSync(join(source, 'var/lib/data'), { recursive: true });
    for (let i = 0; i < 2000; i++) writeFileSync(join(source, `var/lib/data/${i}`), Buffer.alloc(4096, i % 256));
    let removed = false;
    const error = await expectFailure(
      s,
      extract(s, source, {
        onProgress: (p) => {
          if (p.phase !== 'copy' || removed) return;
          removed = true;
          rmSync(source, { recursive: true });
        },
      }),
      SourceDisappearedError,
      'MIGRATE.SOURCE_DISAPPEARED',
    );
    assert.ok(removed);
    assert.equal(error.source, source);
  });

  it('an abort while a disk is being copied', async () => {
    const s = sandbox();
    await buildRawDisk(s.path('vm.raw'), 'gpt', 64, [{ type: GPT_LINUX_ROOT_X86_64, tree: rootfs }]);
    const controller = new AbortController();
    const reason = new Error('stop');
    const aborted = extract(s, s.path('vm.raw'), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'copy') controller.abort(reason);
      },
    });
    await assert.rejects(aborted, (e) => e === reason);
    assert.ok(!existsSync(s.target), 'the target does not exist');
    await assertNothingLeft(s.dir);
  });
});

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; content?: string; mode?: number };
const dir = (name: string): Entry => ({ name, type: 'directory', mode: 0o755 });
const file = (name: string, content: string): Entry => ({ name, content, mode: 0o644 });

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => tar.entry(header, Buffer.from(content ?? ''), (error) => (error ? reject(error) : resolve())));
  }
  tar.finalize();
  await collected;
  return Buffer.concat(chunks);
}
