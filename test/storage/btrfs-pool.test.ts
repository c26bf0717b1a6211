import assert from 'node:assert/strict';
import { access, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BtrfsDriver } from '../../libs/storage/src/infrastructure/btrfs-driver.js';
import { StoragePools } from '../../libs/storage/src/storage-pools.js';
import {
  apparentBytes,
  assertNothingLeft,
  exec,
  fillFrom,
  forceCleanup,
  loopDevicesUnder,
  mountsUnder,
  tempBerthDir,
  timed,
  treeSignature,
} from './storage-support.js';

const GiB = 1024 ** 3;
const SMALL_IMAGE = 'a1'.repeat(32);
const LARGE_IMAGE = 'b2'.repeat(32);
const SMALL_SOURCES = ['/usr/include/linux'];
const LARGE_SOURCES = ['/usr/share'];
const CLONES = ['c1', 'c2', 'c3'];

describe('btrfs pool on a loop file', () => {
  let berthDir: string;
  let pools: StoragePools;
  let pool: BtrfsDriver;

  before(async () => {
    berthDir = await tempBerthDir('btrfs');
    pools = new StoragePools(berthDir);
  });
  after(() => forceCleanup(berthDir));

  it('creates a sparse loop file, attaches it and mounts btrfs at storage/<pool>', async () => {
    const opened = await pools.open('default', { driver: 'btrfs', sizeBytes: 4 * GiB });
    assert.equal(opened.created, true);
    assert.ok(opened.pool instanceof BtrfsDriver);
    pool = opened.pool;
    assert.equal(pool.path, join(berthDir, 'storage', 'default'));
    assert.deepEqual(await mountsUnder(berthDir), [pool.path]);
    const { stdout } = await exec('findmnt', ['--noheadings', '--output', 'FSTYPE,SOURCE', '--mountpoint', pool.path]);
    const [fsType, source] = stdout.trim().split(/\s+/);
    assert.equal(fsType, 'btrfs');
    assert.deepEqual(await loopDevicesUnder(berthDir), [`${source} ${join(berthDir, 'disks', 'default.img')}`]);
    const usage = await pool.usage();
    assert.ok(usage.totalBytes > 3.5 * GiB && usage.totalBytes <= 4 * GiB, `total ${usage.totalBytes}`);
    assert.ok(usage.hostBytes < 64 * 1024 ** 2, `a fresh 4 GiB loop file is sparse (${usage.hostBytes} bytes on the host)`);
    assert.deepEqual(await pool.listVolumes(), []);
  });

  it('fills image volumes, then seals them read-only under their fingerprint', async (t) => {
    for (const [fingerprint, sources] of [
      [SMALL_IMAGE, SMALL_SOURCES],
      [LARGE_IMAGE, LARGE_SOURCES],
    ] as const) {
      const filling = await pool.createImageVolume(fingerprint);
      assert.deepEqual(await pool.listVolumes().then((v) => v.filter((x) => x.kind === 'image' && x.fingerprint === fingerprint)), [
        { kind: 'image', fingerprint, sealed: false, path: filling },
      ]);
      await fillFrom(filling, [...sources]);
      await writeFile(join(filling, 'marker'), 'image');
      const sealed = await pool.sealImageVolume(fingerprint);
      assert.equal(sealed, join(pool.path, 'images', fingerprint));
      await assert.rejects(access(filling), { code: 'ENOENT' });
      await assert.rejects(writeFile(join(sealed, 'marker'), 'changed'), { code: 'EROFS' });
      const { stdout } = await exec('btrfs', ['property', 'get', '-ts', sealed, 'ro']);
      assert.equal(stdout.trim(), 'ro=true');
      t.diagnostic(`image ${fingerprint.slice(0, 8)}: ${(await apparentBytes(sealed)) / 1024 ** 2 | 0} MiB from ${sources.join(', ')}`);
    }
    assert.ok((await apparentBytes(join(pool.path, 'images', LARGE_IMAGE))) > 300 * 1024 ** 2, 'the large image holds a few hundred MB');
  });

  it('clones instance volumes as snapshots, in the same time whatever the image size, sharing its blocks', async (t) => {
    const imageBytes = await apparentBytes(join(pool.path, 'images', LARGE_IMAGE));
    await exec('btrfs', ['filesystem', 'sync', pool.path]);
    const usedBefore = (await pool.usage()).usedBytes;
    const timings: Record<string, number[]> = { small: [], large: [] };
    for (const name of CLONES) {
      timings.small.push((await timed(() => pool.createInstanceVolume(`${name}-small`, SMALL_IMAGE))).ms);
      const { result, ms } = await timed(() => pool.createInstanceVolume(name, LARGE_IMAGE));
      timings.large.push(ms);
      assert.equal(result, join(pool.path, 'containers', name));
    }
    await exec('btrfs', ['filesystem', 'sync', pool.path]);
    const grown = (await pool.usage()).usedBytes - usedBefore;
    t.diagnostic(`clone ms, small image: ${timings.small.map((ms) => ms.toFixed(1)).join(', ')}`);
    t.diagnostic(`clone ms, large image (${(imageBytes / 1024 ** 2) | 0} MiB): ${timings.large.map((ms) => ms.toFixed(1)).join(', ')}`);
    t.diagnostic(`pool grew by ${(grown / 1024 ** 2).toFixed(1)} MiB for ${CLONES.length * 2} clones`);
    assert.ok(grown < imageBytes / 10, `six clones took ${grown} bytes, an image is ${imageBytes}: the clones share its blocks`);
    const image = await treeSignature(join(pool.path, 'images', LARGE_IMAGE));
    for (const name of CLONES) assert.deepEqual(await treeSignature(pool.instanceVolumePath(name)), image, `${name} holds the whole image`);
  });

  it('keeps every clone independent of the image and of the others', async () => {
    const [c1, c2, c3] = CLONES.map((name) => pool.instanceVolumePath(name));
    const image = join(pool.path, 'images', LARGE_IMAGE);
    await writeFile(join(c1, 'only-in-c1'), 'c1');
    await writeFile(join(c2, 'marker'), 'c2');
    await unlink(join(c3, 'marker'));
    await rm(join(c3, 'share', 'doc'), { recursive: true });

    assert.equal(await readFile(join(image, 'marker'), 'utf8'), 'image');
    assert.equal(await readFile(join(c1, 'marker'), 'utf8'), 'image');
    assert.equal(await readFile(join(c2, 'marker'), 'utf8'), 'c2');
    await assert.rejects(access(join(c3, 'marker')), { code: 'ENOENT' });
    for (const other of [image, c2, c3]) await assert.rejects(access(join(other, 'only-in-c1')), { code: 'ENOENT' });
    for (const other of [image, c1, c2]) await access(join(other, 'share', 'doc'));
    assert.equal(await readFile(join(pool.instanceVolumePath('c1-small'), 'marker'), 'utf8'), 'image');
  });

  it('creates empty volumes, renames them and lists every volume', async () => {
    const empty = await pool.createEmptyInstanceVolume('scratch');
    assert.deepEqual(await readdir(empty), []);
    await writeFile(join(empty, 'kept'), 'across rename');
    const renamed = await pool.renameInstanceVolume('scratch', 'scratch2');
    assert.equal(await readFile(join(renamed, 'kept'), 'utf8'), 'across rename');
    await assert.rejects(access(empty), { code: 'ENOENT' });
    const listed = (await pool.listVolumes()).map((v) => (v.kind === 'image' ? `image ${v.fingerprint} ${v.sealed}` : `instance ${v.name}`));
    assert.deepEqual(listed, [
      `image ${SMALL_IMAGE} true`,
      `image ${LARGE_IMAGE} true`,
      'instance c1',
      'instance c1-small',
      'instance c2',
      'instance c2-small',
      'instance c3',
      'instance c3-small',
      'instance scratch2',
    ]);
  });

  it('mounts and unmounts idempotently, with one mount and one loop device', async () => {
    assert.equal(await pool.mountPool(), false);
    assert.equal(await pool.mountPool(), false);
    assert.deepEqual(await mountsUnder(berthDir), [pool.path]);
    assert.equal((await loopDevicesUnder(berthDir)).length, 1);
    assert.equal(await pool.unmountPool(), true);
    assert.equal(await pool.unmountPool(), false);
    assert.deepEqual(await mountsUnder(berthDir), []);
    assert.deepEqual(await loopDevicesUnder(berthDir), []);
    await assert.rejects(pool.createEmptyInstanceVolume('while-unmounted'), { code: 'STORAGE.POOL_UNAVAILABLE' });
    await assert.rejects(access(join(pool.path, 'containers')), { code: 'ENOENT' }, 'nothing was written to the bare mount point');
    assert.equal(await pool.mountPool(), true);
    assert.equal(await readFile(join(pool.instanceVolumePath('c1'), 'only-in-c1'), 'utf8'), 'c1');
  });

  it('is mounted again by a new daemon after a reboot dropped the mount and the loop device', async () => {
    await exec('umount', [pool.path]);
    for (const device of await loopDevicesUnder(berthDir)) await exec('losetup', ['--detach', device.split(' ')[0]]);
    assert.deepEqual(await mountsUnder(berthDir), []);
    const restarted = new StoragePools(berthDir);
    assert.equal(await restarted.inspect('default'), 'btrfs');
    const opened = await restarted.open('default');
    assert.deepEqual([opened.created, opened.mounted, opened.pool.driver], [false, true, 'btrfs']);
    assert.equal(await readFile(join(opened.pool.instanceVolumePath('c2'), 'marker'), 'utf8'), 'c2');
    assert.equal((await opened.pool.listVolumes()).length, 9);
  });

  it('reuses a loop device left attached by a crash between attach and mount', async () => {
    await exec('umount', [pool.path]);
    assert.equal((await loopDevicesUnder(berthDir)).length, 1);
    const opened = await new StoragePools(berthDir).open('default');
    assert.equal(opened.mounted, true);
    assert.equal((await loopDevicesUnder(berthDir)).length, 1);
    assert.deepEqual(await mountsUnder(berthDir), [pool.path]);
  });

  it('deletes an instance volume together with the subvolumes created inside it', async () => {
    const c1 = pool.instanceVolumePath('c1');
    await exec('mkdir', ['-p', join(c1, 'var', 'lib')]);
    await exec('btrfs', ['subvolume', 'create', join(c1, 'var', 'lib', 'machines')]);
    await exec('btrfs', ['subvolume', 'snapshot', '-r', join(c1, 'var', 'lib', 'machines'), join(c1, 'var', 'lib', 'machines', 'ro-snap')]);
    await pool.deleteInstanceVolume('c1');
    const { stdout } = await exec('btrfs', ['subvolume', 'list', pool.path]);
    assert.doesNotMatch(stdout, /containers\/c1\//);
    assert.doesNotMatch(stdout, /path containers\/c1$/m);
    await assert.rejects(access(c1), { code: 'ENOENT' });
  });

  it('removes image volumes a crash left unsealed (one read-only, as a crash while sealing leaves it), and only those', async () => {
    const before = await pool.listVolumes();
    const unfinished = ['e5'.repeat(32), 'f6'.repeat(32)];
    for (const fingerprint of unfinished) {
      const filling = await pool.createImageVolume(fingerprint);
      await fillFrom(filling, [...SMALL_SOURCES]);
    }
    await exec('btrfs', ['property', 'set', '-ts', join(pool.path, 'images', `${unfinished[1]}.filling`), 'ro', 'true']);
    assert.equal(await pool.removeUnfinishedImageVolume(LARGE_IMAGE), false, 'a sealed image is not unfinished');
    assert.deepEqual((await pool.sweepUnfinished()).sort(), unfinished);
    assert.deepEqual(await pool.listVolumes(), before);
    assert.equal(await pool.removeUnfinishedImageVolume(unfinished[0]), false);
    const { stdout } = await exec('btrfs', ['subvolume', 'list', pool.path]);
    assert.doesNotMatch(stdout, /\.filling/);
  });

  it('refuses to delete a pool that still holds volumes, and leaves it as it was', async () => {
    await assert.rejects(pools.delete('default'), { code: 'STORAGE.POOL_IN_USE' });
    assert.deepEqual(await mountsUnder(berthDir), [pool.path]);
    assert.equal((await pool.listVolumes()).length, 8);
  });

  it('deletes an image volume without touching the instances cloned from it', async () => {
    await pool.deleteImageVolume(SMALL_IMAGE);
    await assert.rejects(access(join(pool.path, 'images', SMALL_IMAGE)), { code: 'ENOENT' });
    assert.equal(await readFile(join(pool.instanceVolumePath('c2-small'), 'marker'), 'utf8'), 'image');
  });

  it('deletes every volume and the pool, leaving nothing under BERTH_DIR', async () => {
    for (const volume of await pool.listVolumes()) {
      if (volume.kind === 'instance') await pool.deleteInstanceVolume(volume.name);
      else await pool.deleteImageVolume(volume.fingerprint);
    }
    assert.deepEqual(await pool.listVolumes(), []);
    const { stdout } = await exec('btrfs', ['subvolume', 'list', pool.path]);
    assert.equal(stdout.trim(), '', 'no subvolume is left in the pool');
    await pools.delete('default');
    await assertNothingLeft(berthDir);
  });
});
