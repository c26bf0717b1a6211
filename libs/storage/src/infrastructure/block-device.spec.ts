import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { backingDevice, mountHolding } from './block-device.js';

describe('mountHolding', () => {
  const mounts = [
    { mountPoint: '/', fsType: 'ext4', source: '/dev/vda' },
    { mountPoint: '/srv/berth/storage/default', fsType: 'btrfs', source: '/dev/loop0' },
    { mountPoint: '/srv/berth/storage/default', fsType: 'btrfs', source: '/dev/loop3' },
    { mountPoint: '/srv/berth/storage/default2', fsType: 'tmpfs', source: 'tmpfs' },
  ];
  it('takes the longest mount point containing the path, the last one stacked there', () => {
    assert.equal(mountHolding(mounts, '/srv/berth/storage/default/containers/c1')?.source, '/dev/loop3');
    assert.equal(mountHolding(mounts, '/srv/berth/storage/default')?.source, '/dev/loop3');
    assert.equal(mountHolding(mounts, '/srv/berth/storage/default2/x')?.fsType, 'tmpfs');
    assert.equal(mountHolding(mounts, '/srv/berth/storage/defaultx')?.source, '/dev/vda');
  });
});

describe('backingDevice', () => {
  it("finds the block device of the root filesystem: the device of its files", async () => {
    const found = await backingDevice('/');
    assert.equal(found.kind, 'device', JSON.stringify(found));
    if (found.kind !== 'device') return;
    const dev = (await stat('/', { bigint: true })).dev;
    // The root filesystem here is ext4 on a whole disk, so its files carry the disk's number.
    assert.equal(`${found.major}:${found.minor}`, `${Number((dev >> 8n) & 0xfffn)}:${Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn))}`);
  });

  it('says why a path on a filesystem without a block device has none', async () => {
    const found = await backingDevice('/dev/shm');
    assert.equal(found.kind, 'none');
    if (found.kind === 'none') assert.match(found.reason, /on tmpfs \(.*\) mounted at .*, which has no block device/);
  });
});
