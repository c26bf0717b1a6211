import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocateCpus } from './cpu-allocation.js';
import { cgroupV1Writes, cgroupV2Writes, cpuShares, sharesToWeight } from './cgroup-settings.js';

const MiB = 1024n * 1024n;

describe('cgroup settings', () => {
  it('v1: hard memory with no swap, CFS quota, shares, cpuset, pids, blkio', () => {
    const writes = cgroupV1Writes(
      { memoryBytes: 256n * MiB, swap: { kind: 'off' }, cpuAllowance: { kind: 'quota', quotaUs: 25000, periodUs: 100000 }, processes: 50, diskPriority: 5 },
      [1],
      true,
    );
    assert.deepEqual(writes.map((w) => `${w.controller}/${w.file}=${w.value}`), [
      'memory/memory.limit_in_bytes=268435456',
      'memory/memory.memsw.limit_in_bytes=268435456',
      'cpu/cpu.cfs_period_us=100000',
      'cpu/cpu.cfs_quota_us=25000',
      'cpu/cpu.shares=1024',
      'cpuset/cpuset.cpus=1',
      'pids/pids.max=50',
      'blkio/blkio.weight=500',
    ]);
  });

  it('v1: soft memory uses the soft limit; swap bytes add to memsw; no memsw without swap accounting', () => {
    assert.deepEqual(cgroupV1Writes({ memoryBytes: 64n * MiB, memoryEnforce: 'soft' }, undefined, true), [{ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: String(64n * MiB) }]);
    assert.equal(cgroupV1Writes({ memoryBytes: 64n * MiB, swap: { kind: 'bytes', bytes: 64n * MiB } }, undefined, true)[1].value, String(128n * MiB));
    assert.equal(cgroupV1Writes({ memoryBytes: 64n * MiB, swap: { kind: 'off' } }, undefined, false).length, 1);
  });

  it('v2: memory.max / memory.high, swap.max, cpu.max, cpu.weight, io.weight', () => {
    const hard = cgroupV2Writes({ memoryBytes: 64n * MiB, swap: { kind: 'off' }, cpuAllowance: { kind: 'quota', quotaUs: 50000, periodUs: 100000 }, cpuPriority: 10, diskPriority: 10 }, [0, 1]);
    assert.deepEqual(hard.map((w) => `${w.file}=${w.value}`), ['memory.max=67108864', 'memory.swap.max=0', 'cpu.max=50000 100000', 'cpu.weight=100', 'cpuset.cpus=0,1', 'io.weight=default 200']);
    const soft = cgroupV2Writes({ memoryBytes: 64n * MiB, memoryEnforce: 'soft', swap: { kind: 'on' } }, undefined);
    assert.deepEqual(soft.map((w) => `${w.file}=${w.value}`), ['memory.high=67108864', 'memory.swap.max=max']);
  });

  it('shares follow allowance and priority; weights follow shares', () => {
    assert.equal(cpuShares({}), 1024);
    assert.equal(cpuShares({ cpuAllowance: { kind: 'share', percent: 50 } }), 524);
    assert.equal(cpuShares({ cpuPriority: 0 }), 1014);
    assert.equal(sharesToWeight(1024), 100);
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(262144), 10000);
  });

  it('allocates the least loaded CPUs first', () => {
    assert.deepEqual(allocateCpus(1, [0, 1, 2, 3], new Map([[0, 2], [1, 0], [2, 1]])), [1]);
    assert.deepEqual(allocateCpus(2, [0, 1, 2, 3], new Map([[0, 2], [1, 0], [2, 1]])), [1, 3]);
    assert.deepEqual(allocateCpus(2, [0, 1], new Map()), [0, 1]);
  });
});
