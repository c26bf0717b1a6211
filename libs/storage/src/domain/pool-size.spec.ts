import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_POOL_SIZE_BYTES, poolSizeBytes } from './pool-size.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('poolSizeBytes', () => {
  it('takes 20% of the free space between the floor and the cap, in whole MiB', () => {
    assert.equal(poolSizeBytes(undefined, 100 * GiB), 20 * GiB);
    assert.equal(poolSizeBytes(undefined, 10 * GiB), 5 * GiB);
    assert.equal(poolSizeBytes(undefined, 1000 * GiB), 30 * GiB);
    assert.equal(poolSizeBytes(undefined, 77 * GiB + 3) % MiB, 0);
  });

  it('keeps a requested size, rounded down to a MiB', () => {
    assert.equal(poolSizeBytes(2 * GiB + 5, 1 * GiB), 2 * GiB);
  });

  it('refuses sizes mkfs.btrfs could not format', () => {
    assert.throws(() => poolSizeBytes(MIN_POOL_SIZE_BYTES - 1, 100 * GiB), { code: 'STORAGE.INVALID_SIZE' });
    assert.throws(() => poolSizeBytes(1.5 * GiB + 0.5, 100 * GiB), { code: 'STORAGE.INVALID_SIZE' });
  });
});
