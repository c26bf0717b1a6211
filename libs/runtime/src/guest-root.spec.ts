import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { NativeCallError } from './errors.js';
import { GuestRoot } from './guest-root.js';

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function rejectsWith(promise: Promise<unknown>, errnoCode: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof NativeCallError, `a NativeCallError, got ${String(error)}`);
    assert.equal(error.errnoCode, errnoCode, error.message);
    return true;
  });
}

/**
 * A hostile tree: <tmp>/root is the guest, <tmp>/outside stands for the host. Every trick must
 * stay inside root (or fail), and nothing in outside, nor the host's /etc, may be read or written.
 */
describe('GuestRoot: file access resolved inside a hostile root', () => {
  let tmp: string;
  let root: string;
  let outside: string;
  let guest: GuestRoot;
  let procMounted = false;
  const hostPasswd = sha256('/etc/passwd');

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-guest-root-'));
    root = path.join(tmp, 'root');
    outside = path.join(tmp, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 'host secret\n');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:guest root:/root:/bin/sh\n');
    writeFileSync(path.join(root, 'etc/hostname'), 'guest\n');
    symlinkSync('/etc/passwd', path.join(root, 'abs-passwd'));
    symlinkSync('../../../../../../../../etc/passwd', path.join(root, 'etc/dotdot-passwd'));
    symlinkSync('../outside/secret', path.join(root, 'up-secret'));
    symlinkSync(outside, path.join(root, 'outside-dir'));
    symlinkSync('/', path.join(root, 'slash'));
    guest = new GuestRoot(root);
  });

  after(() => {
    if (procMounted) execFileSync('umount', [path.join(root, 'proc')]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('resolves an absolute symlink inside the root', async () => {
    assert.equal(await guest.readText('/abs-passwd'), 'root:x:0:0:guest root:/root:/bin/sh\n');
    assert.equal(await guest.realpath('abs-passwd'), '/etc/passwd');
  });

  it('keeps a ../../ chain at the root, as the kernel does for "/.."', async () => {
    assert.equal(await guest.readText('etc/dotdot-passwd'), 'root:x:0:0:guest root:/root:/bin/sh\n');
    assert.equal(await guest.readText('../../../../etc/passwd'), 'root:x:0:0:guest root:/root:/bin/sh\n');
    await rejectsWith(guest.readFile('up-secret'), 'ENOENT');
    await rejectsWith(guest.readFile('../outside/secret'), 'ENOENT');
    assert.deepEqual((await guest.readdir('slash/..')).map((e) => e.name), readdirSync(root).sort());
  });

  it('never writes through a symlinked parent directory that points out of the root', async () => {
    await rejectsWith(guest.writeFile('outside-dir/planted', 'x'), 'ENOENT');
    await rejectsWith(guest.mkdir('outside-dir/planted-dir'), 'ENOENT');
    await rejectsWith(guest.symlink('/x', 'outside-dir/planted-link'), 'ENOENT');
    await rejectsWith(guest.rename('etc/hostname', 'outside-dir/hostname'), 'ENOENT');
    await rejectsWith(guest.unlink('outside-dir/secret'), 'ENOENT');
    assert.deepEqual(readdirSync(outside), ['secret']);
    assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), 'host secret\n');

    // Where the same path exists inside the root, that is where the write lands.
    mkdirSync(path.join(root, outside), { recursive: true });
    await guest.writeFile('outside-dir/planted', 'inside\n');
    assert.equal(readFileSync(path.join(root, outside, 'planted'), 'utf8'), 'inside\n');
    assert.deepEqual(readdirSync(outside), ['secret']);
  });

  it('replaces a symlink it writes over instead of following it (host and guest passwd untouched)', async () => {
    symlinkSync('/etc/passwd', path.join(root, 'etc/fstab'));
    await guest.writeFile('/etc/fstab', 'proc /proc proc defaults 0 0\n');
    assert.equal(lstatSync(path.join(root, 'etc/fstab')).isFile(), true);
    assert.equal(readFileSync(path.join(root, 'etc/fstab'), 'utf8'), 'proc /proc proc defaults 0 0\n');
    assert.equal(readFileSync(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0:guest root:/root:/bin/sh\n');
    assert.equal(sha256('/etc/passwd'), hostPasswd);
  });

  it('operates on final symlinks themselves: lstat, readlink (verbatim), rename, unlink', async () => {
    const st = await guest.lstat('abs-passwd');
    assert.equal(st.type, 'symlink');
    assert.equal(await guest.readlink('abs-passwd'), '/etc/passwd');
    assert.equal(await guest.readlink('etc/dotdot-passwd'), '../../../../../../../../etc/passwd');
    await rejectsWith(guest.readlink('etc/hostname'), 'EINVAL');

    await guest.symlink('/etc/passwd', 'doomed');
    await guest.rename('doomed', 'etc/doomed.berth-orig');
    assert.equal(readlinkSync(path.join(root, 'etc/doomed.berth-orig')), '/etc/passwd');
    await guest.unlink('etc/doomed.berth-orig');
    assert.equal(lstatSync(path.join(root, 'etc/doomed.berth-orig'), { throwIfNoEntry: false }), undefined);
    assert.equal(sha256('/etc/passwd'), hostPasswd);
    assert.equal(readFileSync(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0:guest root:/root:/bin/sh\n');
  });

  it('stores symlink targets verbatim and masks a unit the systemd way', async () => {
    await guest.mkdir('/etc/systemd/system', { recursive: true });
    await guest.symlink('/dev/null', '/etc/systemd/system/hwclock.service');
    assert.equal(readlinkSync(path.join(root, 'etc/systemd/system/hwclock.service')), '/dev/null');
    await rejectsWith(guest.symlink('/dev/null', '/etc/systemd/system/hwclock.service'), 'EEXIST');
    await rejectsWith(guest.rename('etc/hostname', 'etc/passwd', { noReplace: true }), 'EEXIST');
  });

  it('refuses /proc magic links inside the root', async () => {
    mkdirSync(path.join(root, 'proc'));
    execFileSync('mount', ['-t', 'proc', 'proc', path.join(root, 'proc')]);
    procMounted = true;
    symlinkSync('/proc/self/root/etc/passwd', path.join(root, 'magic'));
    await rejectsWith(guest.readFile('/proc/self/root/etc/passwd'), 'ELOOP');
    await rejectsWith(guest.readFile('magic'), 'ELOOP');
    await rejectsWith(guest.writeFile('/proc/self/root/tmp/planted', 'x'), 'ELOOP');
    await rejectsWith(guest.readdir('/proc/self/cwd'), 'ELOOP');
    assert.equal((await guest.lstat('/proc/self/root')).type, 'symlink');
    assert.equal(sha256('/etc/passwd'), hostPasswd);
    execFileSync('umount', [path.join(root, 'proc')]);
    procMounted = false;
  });

  it('reads only regular files, within a size bound, without opening FIFOs or devices', async () => {
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    await rejectsWith(guest.readFile('fifo'), 'EINVAL');
    await rejectsWith(guest.readFile('etc'), 'EISDIR');
    writeFileSync(path.join(root, 'big'), Buffer.alloc(4097));
    await rejectsWith(guest.readFile('big', { maxBytes: 4096 }), 'EFBIG');
    assert.equal((await guest.readFile('big', { maxBytes: 4097 })).length, 4097);
    assert.equal((await guest.readFile('big', { maxBytes: 64, truncate: true })).length, 64);
    await rejectsWith(guest.readFile('missing'), 'ENOENT');
    assert.equal(await guest.lstatIfExists('missing/deeper'), null);
    assert.equal(await guest.lstatIfExists('etc/hostname/deeper'), null);
  });

  it('replaces files atomically, keeping the old owner and mode; new files take the directory owner', async () => {
    const file = path.join(root, 'etc/shadow');
    writeFileSync(file, 'old\n', { mode: 0o640 });
    chownSync(file, 0, 42);
    await guest.writeFile('etc/shadow', 'new\n');
    let st = statSync(file);
    assert.equal(readFileSync(file, 'utf8'), 'new\n');
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.gid, 42);

    mkdirSync(path.join(root, 'home/user'), { recursive: true });
    chownSync(path.join(root, 'home/user'), 1000, 1000);
    await guest.writeFile('/home/user/.profile', 'PATH=/bin\n');
    st = statSync(path.join(root, 'home/user/.profile'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1000, 1000, 0o644]);
    await guest.writeFile('/home/user/script', '#!/bin/sh\n', { mode: 0o755, uid: 0, gid: 0 });
    st = statSync(path.join(root, 'home/user/script'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o755]);
    assert.deepEqual(readdirSync(path.join(root, 'home/user')).sort(), ['.profile', 'script'], 'no temporary file left');
    await rejectsWith(guest.writeFile('etc', 'x'), 'EISDIR');
    await rejectsWith(guest.writeFile('/', 'x'), 'EINVAL');
    await rejectsWith(guest.writeFile('etc/..', 'x'), 'EINVAL');
  });

  it('lists directories with entry types and creates directories owned like their parent', async () => {
    await guest.mkdir('home/user/a/b/c', { recursive: true });
    const st = statSync(path.join(root, 'home/user/a/b'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1000, 1000, 0o755]);
    await guest.mkdir('home/user/a/b/c', { recursive: true });
    const entries = await guest.readdir('/');
    const byName = Object.fromEntries(entries.map((e) => [e.name, e.type]));
    assert.equal(byName['etc'], 'directory');
    assert.equal(byName['abs-passwd'], 'symlink');
    assert.equal(byName['big'], 'file');
    assert.equal(byName['fifo'], 'other');
    await guest.rmdir('home/user/a/b/c');
    assert.equal(lstatSync(path.join(root, 'home/user/a/b/c'), { throwIfNoEntry: false }), undefined);
  });

  it('leaks no descriptor', async () => {
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) {
      await guest.readText('etc/hostname');
      await guest.readdir('etc');
      await guest.lstat('abs-passwd');
      await guest.writeFile('etc/counter', String(i));
      await guest.readFile('missing').catch(() => undefined);
    }
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });

  it('refuses a relative root', () => {
    assert.throws(() => new GuestRoot('relative/root'), /absolute/);
  });
});
