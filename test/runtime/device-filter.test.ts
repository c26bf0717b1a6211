import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { cgroupMounts, exists, monitorPath } from './helpers.js';

const run = promisify(execFile);

/** Opens each node from a shell that first moved itself into `cgroup` (a cgroup2 directory). */
async function openFrom(cgroup: string, nodes: string[], mknod: string): Promise<string[]> {
  const script = [
    `echo $$ > ${cgroup}/cgroup.procs`,
    `for f in ${nodes.join(' ')}; do head -c 0 "$f" 2>/dev/null && echo "$f open" || echo "$f denied"; done`,
    `mknod ${mknod} c 1 11 && echo "mknod allowed"`,
    `head -c 0 ${nodes[nodes.length - 1]} 2>&1 | grep -q 'Operation not permitted' && echo EPERM`,
    'true',
  ].join('\n');
  const { stdout } = await run('sh', ['-c', script]);
  return stdout.trim().split('\n');
}

describe('the cgroup v2 device program (BPF_PROG_TYPE_CGROUP_DEVICE)', () => {
  let dir: string;
  let unified: string;
  const cgroups: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-devices-'));
    /* The cgroup2 hierarchy: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one. */
    const found = (await cgroupMounts()).find((m) => exists(path.join(m, 'cgroup.subtree_control')));
    assert.ok(found, 'a cgroup2 hierarchy is mounted');
    unified = found;
    await run('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
    await run('mknod', [path.join(dir, 'kmsg'), 'c', '1', '11']);
    await run('mknod', [path.join(dir, 'disk'), 'b', '7', '0']);
  });

  after(async () => {
    for (const cgroup of cgroups) await rmdir(cgroup).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('allows the standard nodes and mknod, denies other devices with EPERM, and goes with its cgroup', async () => {
    const filtered = path.join(unified, `berth-test-devices-${process.pid}`);
    const plain = path.join(unified, `berth-test-no-devices-${process.pid}`);
    for (const cgroup of [filtered, plain]) {
      await mkdir(cgroup);
      cgroups.push(cgroup);
    }
    const { stdout } = await run(monitorPath, ['device-filter', filtered]);
    assert.deepEqual(JSON.parse(stdout), { ok: true });

    const nodes = ['/dev/null', '/dev/zero', '/dev/urandom', path.join(dir, 'null'), path.join(dir, 'disk'), path.join(dir, 'kmsg')];
    assert.deepEqual(await openFrom(filtered, nodes, path.join(dir, 'made-in-filtered')), [
      '/dev/null open',
      '/dev/zero open',
      '/dev/urandom open',
      `${dir}/null open`,
      `${dir}/disk denied`,
      `${dir}/kmsg denied`,
      'mknod allowed',
      'EPERM',
    ]);
    /* The same nodes from a sibling cgroup without the program: the program is what denied. */
    const control = await openFrom(plain, nodes.slice(0, 4).concat(path.join(dir, 'kmsg')), path.join(dir, 'made-in-plain'));
    assert.deepEqual(control, ['/dev/null open', '/dev/zero open', '/dev/urandom open', `${dir}/null open`, `${dir}/kmsg open`, 'mknod allowed']);

    /* Its shell has exited: removing the cgroup detaches and frees the program. */
    for (const cgroup of [filtered, plain]) {
      await rmdir(cgroup);
      assert.equal(exists(cgroup), false);
    }
  });

  it('reports a directory outside cgroup2 as a typed failure (bpf, EBADF)', async () => {
    const failure = await run(monitorPath, ['device-filter', dir]).then(
      () => assert.fail('attaching to a plain directory must fail'),
      (error: { code: number; stdout: string }) => error,
    );
    assert.equal(failure.code, 1);
    const report = JSON.parse(failure.stdout) as { ok: boolean; syscall: string; code: string };
    assert.equal(report.ok, false);
    assert.equal(report.syscall, 'bpf');
    assert.equal(report.code, 'EBADF');
  });
});
