import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCgroupUsage, readOomKills } from './cgroup-usage.js';

const roots: string[] = [];
/** A stand-in cgroup root holding `files` (paths relative to it) with the kernel's formats. */
async function fakeRoot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-fake-cg-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}
after(async () => {
  for (const root of roots) await rm(root, { recursive: true });
});

const rel = 'berth/c1';

describe('readCgroupUsage', () => {
  it('reads usage, OOM kills and the limits in force from cgroup v1 hierarchies', async () => {
    const root = await fakeRoot({
      [`memory/${rel}/memory.usage_in_bytes`]: '41943040\n',
      [`memory/${rel}/memory.memsw.usage_in_bytes`]: '44040192\n',
      [`memory/${rel}/memory.max_usage_in_bytes`]: '134217728\n',
      [`memory/${rel}/memory.limit_in_bytes`]: '134217728\n',
      [`memory/${rel}/memory.memsw.limit_in_bytes`]: '134217728\n',
      [`memory/${rel}/memory.soft_limit_in_bytes`]: '9223372036854771712\n',
      [`memory/${rel}/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
      [`memory/${rel}/payload/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
      [`pids/${rel}/pids.current`]: '17\n',
      [`pids/${rel}/pids.max`]: '50\n',
      [`cpuacct/${rel}/cpuacct.usage`]: '2500000000\n',
      [`cpu/${rel}/cpu.cfs_quota_us`]: '25000\n',
      [`cpu/${rel}/cpu.cfs_period_us`]: '100000\n',
      [`cpu/${rel}/cpu.shares`]: '1024\n',
      [`cpuset/${rel}/cpuset.effective_cpus`]: '0\n',
      [`blkio/${rel}/blkio.throttle.io_service_bytes_recursive`]:
        '7:0 Read 4096\n7:0 Write 1048576\n7:0 Sync 0\n7:0 Async 1052672\n7:0 Total 1052672\n8:0 Read 8192\n8:0 Write 0\nTotal 1060864\n',
    });
    assert.deepEqual(await readCgroupUsage({ version: 1, root, rel }), {
      memory: 41943040,
      memoryPeak: 134217728,
      swap: 2097152,
      processes: 17,
      cpuNs: 2500000000,
      io: { readBytes: 12288, writtenBytes: 1048576 },
      oomKills: 3,
      limits: { memory: 134217728, memorySoft: null, swap: 0, cpus: '0', cpuQuota: { quotaUs: 25000, periodUs: 100000 }, cpuWeight: 1024, processes: 50 },
    });
  });

  it('reads the same from a cgroup v2 directory', async () => {
    const root = await fakeRoot({
      [`${rel}/memory.current`]: '41943040\n',
      [`${rel}/memory.peak`]: '100663296\n',
      [`${rel}/memory.swap.current`]: '0\n',
      [`${rel}/memory.max`]: '134217728\n',
      [`${rel}/memory.high`]: 'max\n',
      [`${rel}/memory.swap.max`]: '0\n',
      [`${rel}/memory.events`]: 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n',
      [`${rel}/pids.current`]: '9\n',
      [`${rel}/pids.max`]: 'max\n',
      [`${rel}/cpu.stat`]: 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n',
      [`${rel}/cpu.max`]: 'max 100000\n',
      [`${rel}/cpu.weight`]: '100\n',
      [`${rel}/cpuset.cpus.effective`]: '0-3\n',
      [`${rel}/io.stat`]: '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
    });
    assert.deepEqual(await readCgroupUsage({ version: 2, root, rel }), {
      memory: 41943040,
      memoryPeak: 100663296,
      swap: 0,
      processes: 9,
      cpuNs: 1500000000,
      io: { readBytes: 4196, writtenBytes: 8192 },
      oomKills: 1,
      limits: { memory: 134217728, memorySoft: null, swap: 0, cpus: '0-3', cpuQuota: null, cpuWeight: 100, processes: null },
    });
  });

  it('counts a cgroup that is gone as using nothing and limiting nothing', async () => {
    const root = await fakeRoot({});
    const usage = await readCgroupUsage({ version: 1, root, rel });
    assert.equal(usage.memory, 0);
    assert.equal(usage.oomKills, 0);
    assert.deepEqual(usage.limits, { memory: null, memorySoft: null, swap: null, cpus: '', cpuQuota: null, cpuWeight: null, processes: null });
  });
});

describe('readOomKills', () => {
  it('reads oom_kill from memory.oom_control (v1, summed over the subtree, where kills are counted in the victim\'s cgroup) and memory.events (v2)', async () => {
    const v1 = await fakeRoot({
      [`memory/${rel}/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
      [`memory/${rel}/payload/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
      [`memory/${rel}/payload/exec/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
    });
    const v2 = await fakeRoot({ [`${rel}/memory.events`]: 'oom 5\noom_kill 4\n' });
    assert.equal(await readOomKills({ version: 1, root: v1, rel }), 2);
    assert.equal(await readOomKills({ version: 2, root: v2, rel }), 4);
  });
});
