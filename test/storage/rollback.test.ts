import assert from 'node:assert/strict';
import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StorageDriver } from '../../libs/storage/src/domain/storage-driver.js';
import { BtrfsDriver } from '../../libs/storage/src/infrastructure/btrfs-driver.js';
import { DirDriver } from '../../libs/storage/src/infrastructure/dir-driver.js';
import { chooseDriver } from '../../libs/storage/src/infrastructure/driver-probe.js';
import { StoragePools } from '../../libs/storage/src/storage-pools.js';
import { assertNothingLeft, failingRunner, forceCleanup, hasCode, loopDevicesUnder, mountsUnder, tempBerthDir, type InjectedFailure } from './storage-support.js';

const MiB = 1024 ** 2;
const IMAGE = 'ab'.repeat(32);

/** The driver's own steps, each made to fail before or after it really ran. */
const POOL_STEPS: InjectedFailure[] = [
  { command: 'mkfs.btrfs', when: 'before' },
  { command: 'mkfs.btrfs', when: 'after' },
  { command: 'losetup', args: ['--find'], when: 'before' },
  { command: 'losetup', args: ['--find'], when: 'after' },
  { command: 'mount', when: 'before' },
  { command: 'mount', when: 'after' },
];

const label = (f: InjectedFailure) => `${[f.command, ...(f.args ?? [])].join(' ')} ${f.when === 'missing' ? 'is not installed' : `fails ${f.when} running`}`;

describe('a failure in the middle of creating a btrfs pool leaves nothing behind', () => {
  for (const failure of POOL_STEPS) {
    it(label(failure), async () => {
      const berthDir = await tempBerthDir('rollback-pool');
      try {
        const runner = failingRunner(failure);
        await assert.rejects(new BtrfsDriver(berthDir, 'default', { sizeBytes: 512 * MiB }, runner).createPool(), (error: Error & { details?: Record<string, unknown> }) => {
          hasCode('STORAGE.POOL_UNAVAILABLE')(error);
          assert.match(String(error.details?.command), new RegExp(`^${failure.command}`), 'the error names the failing command');
          assert.match(String(error.details?.stderr), /injected failure/, 'and carries its stderr');
          return true;
        });
        assert.equal(runner.hits, 1);
        await assertNothingLeft(berthDir);
      } finally {
        await forceCleanup(berthDir);
      }
    });
  }

  it('a mount failing after a reboot detaches the loop device it attached', async () => {
    const berthDir = await tempBerthDir('rollback-mount');
    try {
      const pool = new BtrfsDriver(berthDir, 'default', { sizeBytes: 512 * MiB });
      await pool.createPool();
      await pool.unmountPool();
      const failing = new BtrfsDriver(berthDir, 'default', {}, failingRunner({ command: 'mount', when: 'after' }));
      await assert.rejects(failing.mountPool(), hasCode('STORAGE.POOL_UNAVAILABLE'));
      assert.deepEqual(await mountsUnder(berthDir), []);
      assert.deepEqual(await loopDevicesUnder(berthDir), []);
      assert.equal(await pool.mountPool(), true, 'the pool itself is intact');
      await pool.deletePool();
      await assertNothingLeft(berthDir);
    } finally {
      await forceCleanup(berthDir);
    }
  });
});

const VOLUME_STEPS: Record<'btrfs' | 'dir', { create: InjectedFailure[]; clone: InjectedFailure[]; seal: InjectedFailure[] }> = {
  btrfs: {
    create: [{ command: 'btrfs', args: ['subvolume', 'create'], when: 'after' }],
    clone: [
      { command: 'btrfs', args: ['snapshot'], when: 'before' },
      { command: 'btrfs', args: ['snapshot'], when: 'after' },
    ],
    seal: [{ command: 'btrfs', args: ['property', 'set', 'true'], when: 'after' }],
  },
  dir: {
    create: [],
    clone: [
      { command: 'cp', when: 'before' },
      { command: 'cp', when: 'after' },
    ],
    seal: [],
  },
};

for (const driver of ['btrfs', 'dir'] as const) {
  describe(`a failure in the middle of a ${driver} volume operation leaves nothing behind`, () => {
    let berthDir: string;
    let pool: StorageDriver;
    const withRunner = (failure: InjectedFailure) => {
      const runner = failingRunner(failure);
      const failing = driver === 'btrfs' ? new BtrfsDriver(berthDir, 'default', {}, runner) : new DirDriver(berthDir, 'default', runner);
      return { runner, failing };
    };
    const state = async () => [...(await readdir(pool.path, { recursive: true })).sort(), ...(await mountsUnder(berthDir)), ...(await loopDevicesUnder(berthDir))];

    before(async () => {
      berthDir = await tempBerthDir(`rollback-${driver}`);
      pool = (await new StoragePools(berthDir).open('default', { driver, sizeBytes: 512 * MiB })).pool;
      await writeFile(join(await pool.createImageVolume(IMAGE), 'marker'), 'image');
      await pool.sealImageVolume(IMAGE);
    });
    after(() => forceCleanup(berthDir));

    for (const failure of VOLUME_STEPS[driver].create) {
      it(`create image volume: ${label(failure)}`, async () => {
        const before = await state();
        const { runner, failing } = withRunner(failure);
        await assert.rejects(failing.createImageVolume('cd'.repeat(32)), hasCode('STORAGE.OPERATION_FAILED'));
        assert.equal(runner.hits, 1);
        assert.deepEqual(await state(), before);
      });
    }

    for (const failure of VOLUME_STEPS[driver].clone) {
      it(`clone: ${label(failure)}`, async () => {
        const before = await state();
        const { runner, failing } = withRunner(failure);
        await assert.rejects(failing.createInstanceVolume('c1', IMAGE), hasCode('STORAGE.OPERATION_FAILED'));
        assert.equal(runner.hits, 1);
        assert.deepEqual(await state(), before);
        await assert.rejects(access(pool.instanceVolumePath('c1')), { code: 'ENOENT' });
      });
    }

    for (const failure of VOLUME_STEPS[driver].seal) {
      it(`seal: ${label(failure)} keeps the volume unsealed and writable`, async () => {
        const fingerprint = 'ef'.repeat(32);
        const filling = await pool.createImageVolume(fingerprint);
        const { runner, failing } = withRunner(failure);
        await assert.rejects(failing.sealImageVolume(fingerprint), hasCode('STORAGE.OPERATION_FAILED'));
        assert.equal(runner.hits, 1);
        await writeFile(join(filling, 'still-writable'), 'yes');
        assert.deepEqual(
          (await pool.listVolumes()).filter((v) => v.kind === 'image' && v.fingerprint === fingerprint),
          [{ kind: 'image', fingerprint, sealed: false, path: filling }],
        );
        await pool.deleteImageVolume(fingerprint);
      });
    }

    it('cleans up', async () => {
      await pool.deleteImageVolume(IMAGE);
      await pool.deletePool();
      await assertNothingLeft(berthDir);
    });
  });
}

describe('the automatic driver choice falls back to dir and says why', () => {
  for (const [failure, reason] of [
    [{ command: 'mkfs.btrfs', when: 'missing' }, /btrfs-progs is not installed \(mkfs\.btrfs not found\)/],
    [{ command: 'losetup', args: ['--find'], when: 'after' }, /btrfs on a loop file does not work here: losetup --find --show .* injected failure/],
    [{ command: 'mount', when: 'after' }, /btrfs on a loop file does not work here: mount .* injected failure/],
  ] as const) {
    it(`when ${label(failure)}`, async () => {
      const berthDir = await tempBerthDir('probe');
      try {
        const runner = failingRunner(failure);
        const choice = await chooseDriver(berthDir, runner);
        assert.equal(choice.driver, 'dir');
        assert.match(choice.reason, reason);
        assert.equal(runner.hits, 1);
        await assertNothingLeft(berthDir);
      } finally {
        await forceCleanup(berthDir);
      }
    });
  }
});
