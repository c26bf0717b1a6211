import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { packVolume } from './pack-volume.js';
import { unpackImage } from './unpack-image.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const METADATA = 'architecture: x86_64\ncreation_date: 1700000000\ntemplates:\n  /etc/hostname: {when: [create], template: hostname.tpl}\n';

function volume(): { base: string; volume: string; rootfs: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'berth-pack-'));
  dirs.push(base);
  const vol = join(base, 'volume');
  const rootfs = join(vol, 'rootfs');
  const outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host secret\n');
  mkdirSync(join(vol, 'templates'), { recursive: true });
  writeFileSync(join(vol, 'templates', 'hostname.tpl'), '{{ container.name }}\n');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  mkdirSync(join(rootfs, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'home', 'user'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'marker'), 'published\n');
  writeFileSync(join(rootfs, 'usr', 'bin', 'tool'), '#!/bin/sh\n');
  chmodSync(join(rootfs, 'usr', 'bin', 'tool'), 0o4755);
  linkSync(join(rootfs, 'usr', 'bin', 'tool'), join(rootfs, 'usr', 'bin', 'tool2'));
  chownSync(join(rootfs, 'home', 'user'), 1000, 1000);
  chmodSync(join(rootfs, 'home', 'user'), 0o700);
  utimesSync(join(rootfs, 'etc', 'marker'), 1_600_000_000, 1_600_000_000);
  // Symlinks the guest planted: stored as links, never followed.
  symlinkSync(join(outside, 'secret'), join(rootfs, 'etc', 'abs-link'));
  symlinkSync('../../outside', join(rootfs, 'escape'));
  execFileSync('mkfifo', [join(rootfs, 'fifo')]);
  return { base, volume: vol, rootfs, outside };
}

async function roundTrip(v: { base: string; volume: string }) {
  const output = join(v.base, 'image.tar.gz');
  const packed = await packVolume({ volume: v.volume, metadataYaml: METADATA, output, signal: new AbortController().signal });
  const target = join(v.base, 'unpacked');
  const unpacked = await unpackImage({ files: { kind: 'unified', path: output }, target, expectedFingerprint: packed.fingerprint, signal: new AbortController().signal, onProgress: () => undefined });
  return { packed, unpacked, output, target };
}

describe('packVolume', () => {
  it('packs a volume as a unified LXD image that Berth unpacks to the same tree', async () => {
    const v = volume();
    const { packed, unpacked, output, target } = await roundTrip(v);
    assert.equal(packed.fingerprint, createHash('sha256').update(readFileSync(output)).digest('hex'));
    assert.equal(packed.size, readFileSync(output).length);
    assert.deepEqual(packed.warnings, ['rootfs/fifo: not a file, directory or symlink (a socket, FIFO or device node): left out']);
    assert.equal(unpacked.metadata.architecture, 'x86_64');
    assert.deepEqual(unpacked.metadata.templates.map((t) => t.path), ['/etc/hostname']);
    assert.deepEqual(readdirSync(target).sort(), ['metadata.yaml', 'rootfs', 'templates']);
    const r = join(target, 'rootfs');
    assert.equal(readFileSync(join(r, 'etc', 'marker'), 'utf8'), 'published\n');
    assert.equal(lstatSync(join(r, 'etc', 'marker')).mtimeMs, 1_600_000_000_000);
    assert.equal(lstatSync(join(r, 'usr', 'bin', 'tool')).mode & 0o7777, 0o4755);
    assert.equal(lstatSync(join(r, 'usr', 'bin', 'tool')).ino, lstatSync(join(r, 'usr', 'bin', 'tool2')).ino);
    const home = lstatSync(join(r, 'home', 'user'));
    assert.deepEqual([home.uid, home.gid, home.mode & 0o7777], [1000, 1000, 0o700]);
    assert.equal(readlinkSync(join(r, 'etc', 'abs-link')), join(v.outside, 'secret'));
    assert.equal(readlinkSync(join(r, 'escape')), '../../outside');
    assert.equal(existsSync(join(r, 'fifo')), false);
    assert.equal(readFileSync(join(target, 'templates', 'hostname.tpl'), 'utf8'), '{{ container.name }}\n');
    const listing = execFileSync('tar', ['-tzvf', output, '--numeric-owner'], { encoding: 'utf8' });
    assert.doesNotMatch(listing, /host secret/);
    assert.match(listing.split('\n')[0], /metadata\.yaml$/);
  });

  it('gives back the container\'s ids of a rootfs whose ownership was shifted on disk', async () => {
    const v = volume();
    const base = 1_000_000;
    for (const path of ['', 'etc', 'etc/marker', 'usr', 'usr/bin', 'usr/bin/tool']) chownSync(join(v.rootfs, path), base, base);
    chownSync(join(v.rootfs, 'home', 'user'), base + 1000, base + 1000);
    writeFileSync(join(v.volume, '.berth-shifted.rootfs'), `shifted ${base} 65536\n`);
    const { target } = await roundTrip(v);
    assert.equal(lstatSync(join(target, 'rootfs', 'etc', 'marker')).uid, 0);
    assert.equal(lstatSync(join(target, 'rootfs', 'home', 'user')).uid, 1000);
    assert.equal(existsSync(join(target, '.berth-shifted.rootfs')), false);
  });

  it('refuses a rootfs in the middle of a shift, and leaves no file', async () => {
    const v = volume();
    writeFileSync(join(v.volume, '.berth-shifted.rootfs'), 'shifting 0 1000000 65536\n');
    const output = join(v.base, 'image.tar.gz');
    await assert.rejects(packVolume({ volume: v.volume, metadataYaml: METADATA, output, signal: new AbortController().signal }), { code: 'IMAGE.PUBLISH_REFUSED' });
    assert.equal(existsSync(output), false);
  });
});
