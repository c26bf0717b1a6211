import assert from 'node:assert/strict';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StorageDriver } from '../../libs/storage/src/domain/storage-driver.js';
import { BtrfsDriver } from '../../libs/storage/src/infrastructure/btrfs-driver.js';
import { DirDriver } from '../../libs/storage/src/infrastructure/dir-driver.js';
import { StoragePools } from '../../libs/storage/src/storage-pools.js';
import { assertNothingLeft, exec, forceCleanup, hasCode, loopDevicesUnder, mountsUnder, tempBerthDir } from './storage-support.js';

const IMAGE = 'e5'.repeat(32);
const MiB = 1024 ** 2;

for (const driver of ['btrfs', 'dir'] as const) {
  describe(`${driver} pool: bad requests change nothing`, () => {
    let berthDir: string;
    let pool: StorageDriver;
    let snapshot: () => Promise<string[]>;

    before(async () => {
      berthDir = await tempBerthDir(`errors-${driver}`);
      pool = (await new StoragePools(berthDir).open('default', { driver, sizeBytes: 512 * MiB })).pool;
      const filling = await pool.createImageVolume(IMAGE);
      await writeFile(join(filling, 'marker'), 'image');
      await pool.sealImageVolume(IMAGE);
      await writeFile(join(await pool.createInstanceVolume('web', IMAGE), 'data'), 'web');
      snapshot = async () => [...(await readdir(berthDir, { recursive: true })).sort(), ...(await mountsUnder(berthDir)), ...(await loopDevicesUnder(berthDir))];
    });
    after(() => forceCleanup(berthDir));

    it('a clone from a missing image is STORAGE.VOLUME_NOT_FOUND and creates no volume', async () => {
      const before = await snapshot();
      await assert.rejects(pool.createInstanceVolume('c1', 'f'.repeat(64)), hasCode('STORAGE.VOLUME_NOT_FOUND'));
      assert.deepEqual(await snapshot(), before);
    });

    it('a clone from an image still being filled is STORAGE.VOLUME_NOT_FOUND', async () => {
      const unsealed = 'f0'.repeat(32);
      await pool.createImageVolume(unsealed);
      const before = await snapshot();
      await assert.rejects(pool.createInstanceVolume('c1', unsealed), (error: Error) => hasCode('STORAGE.VOLUME_NOT_FOUND')(error) && /not sealed/.test(error.message));
      assert.deepEqual(await snapshot(), before);
      await pool.deleteImageVolume(unsealed);
    });

    it('a duplicate instance volume is STORAGE.VOLUME_EXISTS and leaves the existing one as it was', async () => {
      const before = await snapshot();
      await assert.rejects(pool.createInstanceVolume('web', IMAGE), hasCode('STORAGE.VOLUME_EXISTS'));
      await assert.rejects(pool.createEmptyInstanceVolume('web'), hasCode('STORAGE.VOLUME_EXISTS'));
      assert.deepEqual(await snapshot(), before);
      assert.equal(await readFile(join(pool.instanceVolumePath('web'), 'data'), 'utf8'), 'web');
    });

    it('concurrent creates of one name: exactly one wins, the others get STORAGE.VOLUME_EXISTS', async () => {
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => pool.createInstanceVolume('race', IMAGE)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') hasCode('STORAGE.VOLUME_EXISTS')(r.reason);
      assert.deepEqual((await readdir(pool.instanceVolumePath('race'))).sort(), ['marker'], 'no clone nested inside the winner');
      await pool.deleteInstanceVolume('race');
    });

    it('a duplicate image volume is STORAGE.VOLUME_EXISTS', async () => {
      const before = await snapshot();
      await assert.rejects(pool.createImageVolume(IMAGE), hasCode('STORAGE.VOLUME_EXISTS'));
      assert.deepEqual(await snapshot(), before);
    });

    it('renames and deletes of missing volumes, and renames onto existing ones, change nothing', async () => {
      await pool.createEmptyInstanceVolume('other');
      const before = await snapshot();
      await assert.rejects(pool.renameInstanceVolume('web', 'other'), hasCode('STORAGE.VOLUME_EXISTS'));
      await assert.rejects(pool.renameInstanceVolume('ghost', 'ghost2'), hasCode('STORAGE.VOLUME_NOT_FOUND'));
      await assert.rejects(pool.deleteInstanceVolume('ghost'), hasCode('STORAGE.VOLUME_NOT_FOUND'));
      await assert.rejects(pool.deleteImageVolume('ab'.repeat(32)), hasCode('STORAGE.VOLUME_NOT_FOUND'));
      await assert.rejects(pool.sealImageVolume('ab'.repeat(32)), hasCode('STORAGE.VOLUME_NOT_FOUND'));
      assert.deepEqual(await snapshot(), before);
      await pool.deleteInstanceVolume('other');
    });

    it('names that could escape the pool are STORAGE.INVALID_NAME', async () => {
      const before = await snapshot();
      for (const bad of ['../../etc', 'a/b', '..', '.hidden', `${IMAGE}.filling`]) {
        await assert.rejects(pool.createEmptyInstanceVolume(bad), hasCode('STORAGE.INVALID_NAME'));
        await assert.rejects(pool.createInstanceVolume('ok', bad), hasCode('STORAGE.INVALID_NAME'));
        await assert.rejects(pool.createImageVolume(bad), hasCode('STORAGE.INVALID_NAME'));
      }
      assert.deepEqual(await snapshot(), before);
    });

    it('creating the pool again is STORAGE.POOL_EXISTS and leaves it mounted with its volumes', async () => {
      const before = await snapshot();
      const again = driver === 'btrfs' ? new BtrfsDriver(berthDir, 'default', { sizeBytes: 512 * MiB }) : new DirDriver(berthDir, 'default');
      await assert.rejects(again.createPool(), hasCode('STORAGE.POOL_EXISTS'));
      await assert.rejects(new StoragePools(berthDir).open('default', { driver: driver === 'btrfs' ? 'dir' : 'btrfs' }), hasCode('STORAGE.POOL_EXISTS'));
      assert.deepEqual(await snapshot(), before);
    });

    it('cleans up', async () => {
      await pool.deleteInstanceVolume('web');
      await pool.deleteImageVolume(IMAGE);
      await pool.deletePool();
      await assertNothingLeft(berthDir);
    });
  });
}

describe('pools that cannot be made', () => {
  it('a pool inside a BERTH_DIR that does not exist is STORAGE.POOL_UNAVAILABLE and creates nothing', async () => {
    const parent = await tempBerthDir('missing');
    const missing = join(parent, 'does-not-exist');
    try {
      for (const driver of ['btrfs', 'dir', 'auto'] as const) {
        await assert.rejects(new StoragePools(missing).open('default', { driver, sizeBytes: 512 * MiB }), (error: Error) => {
          hasCode('STORAGE.POOL_UNAVAILABLE')(error);
          assert.match(error.message, /does-not-exist is not an existing directory/);
          return true;
        });
      }
      await assert.rejects(access(missing), { code: 'ENOENT' });
      await assertNothingLeft(parent);
    } finally {
      await forceCleanup(parent);
    }
  });

  it('a size below what mkfs.btrfs accepts is STORAGE.INVALID_SIZE and creates nothing', async () => {
    const berthDir = await tempBerthDir('small');
    try {
      await assert.rejects(new BtrfsDriver(berthDir, 'default', { sizeBytes: 16 * MiB }).createPool(), hasCode('STORAGE.INVALID_SIZE'));
      await assertNothingLeft(berthDir);
    } finally {
      await forceCleanup(berthDir);
    }
  });

  it('two BERTH_DIRs with a pool of the same name never see each other', async () => {
    const dirs = [await tempBerthDir('side-a'), await tempBerthDir('side-b')];
    try {
      const pools = await Promise.all(dirs.map(async (dir) => (await new StoragePools(dir).open('default', { driver: 'btrfs', sizeBytes: 512 * MiB })).pool));
      await Promise.all(pools.map(async (pool, i) => writeFile(join(await pool.createEmptyInstanceVolume('c1'), 'who'), String(i))));
      for (const [i, pool] of pools.entries()) {
        assert.equal(await readFile(join(pool.instanceVolumePath('c1'), 'who'), 'utf8'), String(i));
        assert.equal((await loopDevicesUnder(dirs[i])).length, 1);
      }
      const devices = await Promise.all(dirs.map(async (dir) => (await loopDevicesUnder(dir))[0].split(' ')[0]));
      assert.notEqual(devices[0], devices[1]);
      for (const pool of pools) {
        await pool.deleteInstanceVolume('c1');
        await pool.deletePool();
      }
      for (const dir of dirs) await assertNothingLeft(dir);
    } finally {
      for (const dir of dirs) await forceCleanup(dir);
    }
  });

  it('the automatic choice on this host is btrfs, and its probe leaves nothing behind', async () => {
    const berthDir = await tempBerthDir('auto');
    try {
      const pools = new StoragePools(berthDir);
      const opened = await pools.open('default', { sizeBytes: 512 * MiB });
      assert.equal(opened.pool.driver, 'btrfs', opened.reason);
      assert.deepEqual(await readdir(berthDir), ['disks', 'storage']);
      await pools.delete('default');
      await assertNothingLeft(berthDir);
      assert.equal((await exec('btrfs', ['--version'])).stdout.startsWith('btrfs-progs'), true);
    } finally {
      await forceCleanup(berthDir);
    }
  });
});
