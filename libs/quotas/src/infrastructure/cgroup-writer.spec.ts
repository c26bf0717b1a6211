import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cgroupV2Writes } from '../domain/cgroup-settings.js';
import { applyCgroupWrites, CgroupWriteError } from './cgroup-writer.js';

/** A stand-in cgroup v2 directory: this host's v2 tree carries no controllers. */
async function fakeV2(files: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-fake-cg2-'));
  for (const f of files) await writeFile(join(dir, f), 'max\n');
  return dir;
}

describe('applyCgroupWrites on a cgroup v2 layout', () => {
  it('writes every file and reports what it reads back', async () => {
    const dir = await fakeV2(['memory.max', 'memory.swap.max', 'cpu.max', 'cpu.weight', 'pids.max']);
    try {
      const applied = await applyCgroupWrites(
        { version: 2, path: dir },
        cgroupV2Writes({ memoryBytes: 128n * 1024n * 1024n, swap: { kind: 'off' }, cpuAllowance: { kind: 'quota', quotaUs: 25000, periodUs: 100000 }, processes: 50 }, undefined),
      );
      assert.deepEqual(applied.map((a) => [a.file, a.actual]), [
        ['memory.max', '134217728'],
        ['memory.swap.max', '0'],
        ['cpu.max', '25000 100000'],
        ['cpu.weight', '100'],
        ['pids.max', '50'],
      ]);
      assert.equal(await readFile(join(dir, 'pids.max'), 'utf8'), '50');
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('fails with the file named when a controller file is missing, creating nothing', async () => {
    const dir = await fakeV2(['memory.max']);
    try {
      await assert.rejects(
        applyCgroupWrites({ version: 2, path: dir }, [{ controller: 'pids', file: 'pids.max', value: '10' }]),
        (e: unknown) => e instanceof CgroupWriteError && e.message === 'Could not apply pids.max=10: ENOENT',
      );
      await assert.rejects(readFile(join(dir, 'pids.max')));
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
