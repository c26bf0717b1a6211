import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '#core';
import { GuestRoot } from '#runtime';
import { InstanceFileNotFoundError, InstanceRoot, shiftOf, type GuestEntry } from './instance-root.js';
import { parseGuestPath } from './instance-files.handlers.js';

async function content(entry: GuestEntry): Promise<Buffer> {
  assert.equal(entry.type, 'file');
  const chunks: Buffer[] = [];
  for await (const chunk of entry.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('InstanceRoot: the files API inside a hostile root', () => {
  let tmp: string;
  let rootfs: string;
  let outside: string;
  let root: InstanceRoot;
  const hostShadow = sha(readFileSync('/etc/passwd'));

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-files-'));
    rootfs = path.join(tmp, 'volume', 'rootfs');
    outside = path.join(tmp, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 'host secret\n');
    mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
    writeFileSync(path.join(rootfs, 'etc/passwd'), 'guest passwd\n');
    symlinkSync('/etc/passwd', path.join(rootfs, 'evil'));
    symlinkSync('/etc', path.join(rootfs, 'evildir'));
    symlinkSync('../../../../outside', path.join(rootfs, 'up'));
    root = new InstanceRoot('c1', new GuestRoot(rootfs));
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads a file through an absolute symlink as the guest sees it, never the host', async () => {
    const entry = await root.read('/evil');
    assert.deepEqual({ type: entry.type, target: entry.type === 'symlink' ? entry.target : null }, { type: 'symlink', target: '/etc/passwd' });
    const through = await root.read('/evildir/passwd');
    assert.equal((await content(through)).toString(), 'guest passwd\n');
    assert.equal(sha(readFileSync('/etc/passwd')), hostShadow);
  });

  it('keeps `..` chains inside the root', async () => {
    await assert.rejects(root.read('/up/secret'), InstanceFileNotFoundError);
    await assert.rejects(root.read('/../../../outside/secret'), InstanceFileNotFoundError);
  });

  it('writes through a symlinked parent inside the root, and replaces a final symlink instead of following it', async () => {
    mkdirSync(path.join(rootfs, 'tmp'));
    symlinkSync('/tmp', path.join(rootfs, 'tmplink'));
    await root.push('/tmplink/x', { type: 'file', append: false, mode: 0o600 }, Readable.from([Buffer.from('inside')]));
    assert.equal(readFileSync(path.join(rootfs, 'tmp/x'), 'utf8'), 'inside');
    assert.equal(statSync(path.join(rootfs, 'tmp/x')).mode & 0o7777, 0o600);
    await root.push('/evil', { type: 'file', append: false }, Readable.from([Buffer.from('replaced')]));
    assert.equal(lstatSync(path.join(rootfs, 'evil')).isFile(), true);
    assert.equal(sha(readFileSync('/etc/passwd')), hostShadow);
    await root.push('/up/secret', { type: 'file', append: false }, Readable.from([Buffer.from('x')])).catch(() => undefined);
    assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), 'host secret\n');
  });

  it('streams a large file both ways, and appends', async () => {
    const big = randomBytes(24 * 1024 * 1024 + 123);
    await root.push('/big', { type: 'file', append: false, uid: 1000, gid: 1000, mode: 0o640 }, Readable.from((function* () {
      for (let i = 0; i < big.length; i += 1 << 20) yield big.subarray(i, i + (1 << 20));
    })()));
    const entry = await root.read('/big');
    assert.deepEqual({ uid: entry.uid, gid: entry.gid, mode: entry.mode }, { uid: 1000, gid: 1000, mode: 0o640 });
    assert.equal(sha(await content(entry)), sha(big));
    await root.push('/log', { type: 'file', append: true }, Readable.from([Buffer.from('a\n')]));
    await root.push('/log', { type: 'file', append: true }, Readable.from([Buffer.from('b\n')]));
    assert.equal(readFileSync(path.join(rootfs, 'log'), 'utf8'), 'a\nb\n');
  });

  it('creates directories and symlinks, lists and deletes', async () => {
    await root.push('/d', { type: 'directory', append: false, mode: 0o700 }, Readable.from([]));
    await root.push('/d', { type: 'directory', append: false }, Readable.from([]));
    await root.push('/d/l', { type: 'symlink', append: false }, Readable.from([Buffer.from('/etc/shadow')]));
    assert.equal(readlinkSync(path.join(rootfs, 'd/l')), '/etc/shadow');
    const dir = await root.read('/d');
    assert.deepEqual(dir.type === 'directory' ? [dir.entries, dir.mode] : null, [['l'], 0o700]);
    await assert.rejects(root.delete('/d'), ValidationError);
    await root.delete('/d/l');
    await root.delete('/d');
    assert.equal(existsSync(path.join(rootfs, 'd')), false);
    await assert.rejects(root.delete('/d'), InstanceFileNotFoundError);
  });

  it('maps owners of a shifted rootfs back to the container ids', async () => {
    writeFileSync(path.join(tmp, 'volume', '.berth-shifted.rootfs'), 'shifted 1000000 65536\n');
    const shift = await shiftOf(path.join(tmp, 'volume'));
    assert.equal(shift, 1_000_000);
    const shifted = new InstanceRoot('c1', new GuestRoot(rootfs), shift);
    await shifted.push('/owned', { type: 'file', append: false, uid: 33, gid: 33 }, Readable.from([Buffer.from('x')]));
    assert.equal(statSync(path.join(rootfs, 'owned')).uid, 1_000_033);
    const entry = await shifted.read('/owned');
    assert.deepEqual([entry.uid, entry.gid], [33, 33]);
    writeFileSync(path.join(tmp, 'volume', '.berth-shifted.rootfs'), 'shifting 0 1000000 65536\n');
    await assert.rejects(shiftOf(path.join(tmp, 'volume')), /being shifted/);
  });
});

describe('files API input', () => {
  it('takes paths from the root', () => {
    assert.equal(parseGuestPath('/a/../b'), '/a/../b');
    assert.equal(parseGuestPath('etc/passwd'), '/etc/passwd');
    assert.throws(() => parseGuestPath(undefined), /required/);
  });
});
