import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Quota } from '#quotas';
import { cgroupV1Writes, cgroupV2Writes } from '../../libs/quotas/src/domain/cgroup-settings.js';
import { applyCgroupWrites, type CgroupTarget } from '../../libs/quotas/src/infrastructure/cgroup-writer.js';

const ROOT = '/sys/fs/cgroup';
const name = `berth-test-${process.pid}`;
const v1 = existsSync(join(ROOT, 'memory', 'cgroup.procs'));
const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/** A real cgroup of this host (v1 hierarchies here; the unified tree on a pure v2 host). */
const target: CgroupTarget = v1
  ? { version: 1, paths: Object.fromEntries(CONTROLLERS.map((c) => [c, join(ROOT, c, name)])) }
  : { version: 2, path: join(ROOT, name) };
const dirs = target.version === 1 ? Object.values(target.paths) : [target.path];
const procs = (controller: string) => join(target.version === 1 ? target.paths[controller as 'memory']! : target.path, 'cgroup.procs');

function runIn(controllers: string[], script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const join = controllers.map((c) => `echo $$ > ${procs(c)}`).join('; ');
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `${join}; ${script}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const MiB = 1024n * 1024n;
const quota: Quota = { memoryBytes: 64n * MiB, swap: { kind: 'off' }, processes: 20, cpuAllowance: { kind: 'quota', quotaUs: 25000, periodUs: 100000 } };

describe(`quotas on real cgroups (${v1 ? 'v1' : 'v2'})`, () => {
  before(async () => {
    for (const d of dirs) await mkdir(d);
  });
  after(async () => {
    for (const d of dirs) {
      for (;;) {
        const pids = (await readFile(join(d, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
        if (pids.length === 0) break;
        for (const pid of pids) process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 50));
      }
      await rmdir(d);
    }
    for (const d of dirs) assert.equal(existsSync(d), false, `${d} left behind`);
  });

  it('applies the limits and reads them back from the kernel', async () => {
    const swapAccounting = v1 && existsSync(join(ROOT, 'memory', 'memory.memsw.limit_in_bytes'));
    const writes = v1 ? cgroupV1Writes(quota, undefined, swapAccounting) : cgroupV2Writes(quota, undefined);
    const applied = await applyCgroupWrites(target, writes);
    const actual = Object.fromEntries(applied.map((a) => [a.file, a.actual]));
    if (v1) {
      assert.equal(actual['memory.limit_in_bytes'], String(64n * MiB));
      assert.equal(actual['pids.max'], '20');
      assert.equal(actual['cpu.cfs_quota_us'], '25000');
      assert.equal(actual['cpu.cfs_period_us'], '100000');
    } else {
      assert.equal(actual['memory.max'], String(64n * MiB));
      assert.equal(actual['cpu.max'], '25000 100000');
    }
  });

  it('OOM-kills a process that allocates past limits.memory', async () => {
    // tail keeps its last line in memory until the line ends: 256 MiB without a newline cannot fit in 64 MiB.
    const r = await runIn(['memory'], 'head -c 268435456 /dev/zero | tail >/dev/null');
    assert.notEqual(r.code, 0);
    const events = v1 ? await readFile(join(target.version === 1 ? target.paths.memory! : '', 'memory.oom_control'), 'utf8') : await readFile(join((target as { path: string }).path, 'memory.events'), 'utf8');
    const kills = Number(/oom_kill (\d+)/.exec(events)?.[1] ?? 0);
    assert.ok(kills >= 1, `no OOM kill recorded: ${events}`);
  });

  it('refuses forks past limits.processes', async () => {
    const r = await runIn(['pids'], 'for i in $(seq 40); do sleep 2 & done; wait');
    const dir = target.version === 1 ? target.paths.pids! : target.path;
    const events = await readFile(join(dir, 'pids.events'), 'utf8');
    assert.ok(Number(/max (\d+)/.exec(events)?.[1] ?? 0) >= 1, `no fork refused: ${events}`);
    assert.match(r.stderr, /fork|Resource temporarily unavailable/i);
  });
});
