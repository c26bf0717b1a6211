import assert from 'node:assert/strict';
import { access, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirDriver } from '../../libs/storage/src/infrastructure/dir-driver.js';
import { StoragePools } from '../../libs/storage/src/storage-pools.js';
import { apparentBytes, assertNothingLeft, fillFrom, forceCleanup, loopDevicesUnder, mountsUnder, tempBerthDir, timed, treeSignature } from './storage-support.js';

const SMALL_IMAGE = 'c3'.repeat(32);
const LARGE_IMAGE = 'd4'.repeat(32);
const SMALL_SOURCES = ['/usr/include/linux'];
const LARGE_SOURCES = ['/usr/share/doc', '/usr/share/locale'];
const CLONES = ['c1', 'c2', 'c3'];

describe('dir pool (the fallback: full copies)', () => {
  let berthDir: string;
  let pools: StoragePools;
  let pool: DirDriver;

  before(async () => {
    berthDir = await tempBerthDir('dir');
    pools = new StoragePools(berthDir);
  });
  after(() => forceCleanup(berthDir));

  it('creates storage/<pool> as plain directories and says it does not copy on write', async () => {
    const opened = await pools.open('default', { driver: 'dir' });
    assert.ok(opened.pool instanceof DirDriver);
    pool = opened.pool;
    assert.deepEqual(pool.capabilities, { copyOnWrite: false, readOnlyImages: false, atomicSnapshots: false });
    assert.deepEqual(await readdir(pool.path), ['containers', 'images']);
    assert.deepEqual(await mountsUnder(berthDir), []);
    assert.deepEqual(await loopDevicesUnder(berthDir), []);
    assert.equal(await pool.mountPool(), false);
    assert.equal(await new StoragePools(berthDir).inspect('default'), 'dir');
  });

  it('fills and seals image volumes', async () => {
    for (const [fingerprint, sources] of [
      [SMALL_IMAGE, SMALL_SOURCES],
      [LARGE_IMAGE, LARGE_SOURCES],
    ] as const) {
      const filling = await pool.createImageVolume(fingerprint);
      assert.equal(filling, join(pool.path, 'images', `${fingerprint}.filling`));
      await fillFrom(filling, [...sources]);
      await writeFile(join(filling, 'marker'), 'image');
      assert.equal(await pool.sealImageVolume(fingerprint), join(pool.path, 'images', fingerprint));
      await assert.rejects(access(filling), { code: 'ENOENT' });
    }
    assert.deepEqual(
      (await pool.listVolumes()).map((v) => v.kind === 'image' && v.sealed),
      [true, true],
    );
  });

  it('copies the image into each instance volume, keeping owner and mode of the root', async (t) => {
    const image = join(pool.path, 'images', LARGE_IMAGE);
    const timings: Record<string, number[]> = { small: [], large: [] };
    for (const name of CLONES) {
      timings.small.push((await timed(() => pool.createInstanceVolume(`${name}-small`, SMALL_IMAGE))).ms);
      timings.large.push((await timed(() => pool.createInstanceVolume(name, LARGE_IMAGE))).ms);
    }
    t.diagnostic(`dir clone ms, small image: ${timings.small.map((ms) => ms.toFixed(1)).join(', ')}`);
    t.diagnostic(`dir clone ms, large image (${((await apparentBytes(image)) / 1024 ** 2) | 0} MiB): ${timings.large.map((ms) => ms.toFixed(1)).join(', ')}`);
    const signature = await treeSignature(image);
    const root = await stat(image);
    for (const name of CLONES) {
      const clone = pool.instanceVolumePath(name);
      assert.deepEqual(await treeSignature(clone), signature);
      const cloneRoot = await stat(clone);
      assert.deepEqual([cloneRoot.mode, cloneRoot.uid, cloneRoot.gid], [root.mode, root.uid, root.gid]);
    }
  });

  it('keeps every clone independent of the image and of the others', async () => {
    const [c1, c2, c3] = CLONES.map((name) => pool.instanceVolumePath(name));
    const image = join(pool.path, 'images', LARGE_IMAGE);
    await writeFile(join(c1, 'only-in-c1'), 'c1');
    await writeFile(join(c2, 'marker'), 'c2');
    await unlink(join(c3, 'marker'));
    assert.equal(await readFile(join(image, 'marker'), 'utf8'), 'image');
    assert.equal(await readFile(join(c1, 'marker'), 'utf8'), 'image');
    assert.equal(await readFile(join(c2, 'marker'), 'utf8'), 'c2');
    await assert.rejects(access(join(c3, 'marker')), { code: 'ENOENT' });
    for (const other of [image, c2, c3]) await assert.rejects(access(join(other, 'only-in-c1')), { code: 'ENOENT' });
  });

  it('renames, creates empty volumes and is reopened by a new daemon with its volumes', async () => {
    await pool.createEmptyInstanceVolume('scratch');
    await writeFile(join(pool.instanceVolumePath('scratch'), 'kept'), 'yes');
    await pool.renameInstanceVolume('scratch', 'scratch2');
    assert.equal(await readFile(join(pool.instanceVolumePath('scratch2'), 'kept'), 'utf8'), 'yes');
    const reopened = await new StoragePools(berthDir).open('default');
    assert.deepEqual([reopened.created, reopened.mounted, reopened.pool.driver], [false, false, 'dir']);
    assert.equal((await reopened.pool.listVolumes()).length, 2 + 6 + 1);
    const usage = await pool.usage();
    assert.ok(usage.usedBytes > 3 * (await apparentBytes(join(pool.path, 'images', LARGE_IMAGE))), 'copies take real space');
  });

  it('removes image volumes a crash left unsealed, and only those', async () => {
    const before = await pool.listVolumes();
    const unfinished = 'e5'.repeat(32);
    await fillFrom(await pool.createImageVolume(unfinished), [...SMALL_SOURCES]);
    assert.equal(await pool.removeUnfinishedImageVolume(LARGE_IMAGE), false, 'a sealed image is not unfinished');
    assert.deepEqual(await pool.sweepUnfinished(), [unfinished]);
    assert.deepEqual(await pool.listVolumes(), before);
    assert.deepEqual(await pool.sweepUnfinished(), []);
  });

  it('refuses to delete a pool with volumes, then deletes everything leaving nothing behind', async () => {
    await assert.rejects(pools.delete('default'), { code: 'STORAGE.POOL_IN_USE' });
    for (const volume of await pool.listVolumes()) {
      if (volume.kind === 'instance') await pool.deleteInstanceVolume(volume.name);
      else await pool.deleteImageVolume(volume.fingerprint);
    }
    assert.deepEqual(await pool.listVolumes(), []);
    await pools.delete('default');
    await assertNothingLeft(berthDir);
  });
});
