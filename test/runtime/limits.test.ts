// Cgroup limits in the runtime spec: the monitor writes them into the container's cgroup before
// its init runs (an init wrapper records, from inside, what binds it at its very first
// instruction), refuses the start on the kernel's first "no" and leaves nothing, and carries the
// values the files have at a reboot from inside over to the new cgroup, with no daemon involved.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CgroupLimitError, InvalidContainerSpecError, type CgroupLimit, type ContainerState } from '#runtime';

import { Sandbox, cgroupMounts, exists, processGone } from './helpers.js';

const IDMAP = { hostId: 1_000_000, count: 65_536 };
const MiB = 1024 * 1024;
const CGROUP = '/sys/fs/cgroup';
/** What the wrapper appends to, one block per boot (the rootfs outlives reboots). */
const RECORD = 'root/limits-at-init';

/**
 * Stands in for systemd at /usr/lib/systemd/systemd (the first init the monitor looks for) and,
 * as PID 1 only, records before anything else runs: the memory limit above its cgroup (the v1
 * memory hierarchy mounted through its cgroup namespace, whose root is init's own cgroup: the
 * container's limit shows as hierarchical_memory_limit), the CPUs it may run on, and how many
 * processes it could fork before the kernel refused (bounded, so that a missing limit cannot
 * fork-bomb the host; perl, as a shell dies of a failed fork). Then it kills and reaps what it
 * forked and becomes systemd.
 */
const WRAPPER = (forkBound: number) => `#!/bin/sh
if [ "$$" -eq 1 ]; then
  {
    echo boot
    mkdir /run/probe && mount -t cgroup -o memory memory /run/probe && grep '^hierarchical_memory_limit ' /run/probe/memory.stat
    umount /run/probe; rmdir /run/probe
    grep '^Cpus_allowed_list:' /proc/self/status
    perl -e 'my @kids; while (@kids < ${forkBound}) { my $pid = fork() // last; if ($pid == 0) { sleep 600; exit 0 } push @kids, $pid }
      print "forks ", scalar(@kids), "\n"; kill 9, @kids; waitpid($_, 0) for @kids'
  } >> /${RECORD} 2>&1
fi
exec /usr/lib/systemd/real/systemd "$@"
`;

/** A rootfs copy whose init is the wrapper, systemd itself moved beside it. */
async function wrappedRootfs(sandbox: Sandbox, name: string, forkBound: number): Promise<string> {
  const rootfs = await sandbox.rootfs(name);
  const systemd = path.join(rootfs, 'usr/lib/systemd');
  await mkdir(path.join(systemd, 'real'));
  await rename(path.join(systemd, 'systemd'), path.join(systemd, 'real/systemd'));
  await writeFile(path.join(systemd, 'systemd'), WRAPPER(forkBound));
  await chmod(path.join(systemd, 'systemd'), 0o755);
  return rootfs;
}

/** The wrapper's records, one per boot: memory limit, allowed CPUs, forks before the refusal. */
async function records(rootfs: string): Promise<Array<{ memory: number; cpus: string; forks: number }>> {
  const text = await readFile(path.join(rootfs, RECORD), 'utf8');
  return text
    .split('boot\n')
    .slice(1)
    .map((block) => ({
      memory: Number(/^hierarchical_memory_limit (\d+)$/m.exec(block)?.[1]),
      cpus: /^Cpus_allowed_list:\s*(\S+)$/m.exec(block)?.[1] ?? '',
      forks: Number(/^forks (\d+)$/m.exec(block)?.[1]),
    }));
}

const read = (controller: string, cgroup: string, file: string) => readFileSync(path.join(CGROUP, controller, cgroup, file), 'utf8').trim();

/** The host's last CPU: a set narrower than the root's when the host has more than one. */
function lastCpu(): string {
  const cpus = readFileSync(path.join(CGROUP, 'cpuset', 'cpuset.effective_cpus'), 'utf8').trim();
  return /(\d+)$/.exec(cpus)![1]!;
}

async function assertNoTrace(sandbox: Sandbox, name: string, rootfs: string): Promise<void> {
  assert.equal(exists(path.join(sandbox.runtime.berthDir, 'containers', name)), false, 'no runtime dir');
  for (const mount of await cgroupMounts()) {
    for (const base of [path.join(mount, 'berth'), path.join(mount, 'berth', 'monitor')]) {
      const left = exists(base) ? (await readdir(base)).filter((e) => e.startsWith(`${name}-`)) : [];
      assert.deepEqual(left, [], `no cgroup of ${name} (nor of its monitor) in ${base}`);
    }
  }
  assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).includes(rootfs), false, 'no mount of the rootfs on the host');
  assert.equal(existsSync(path.join(rootfs, RECORD)), false, 'no init ran');
}

describe('runtime: limits are in the cgroup before init runs, and survive a reboot from inside', () => {
  let sandbox: Sandbox;
  let rootfs: string;
  let state: ContainerState;
  const cpu = lastCpu();
  const PIDS = 200;
  const limits: CgroupLimit[] = [
    { controller: 'memory', file: 'memory.limit_in_bytes', value: String(256 * MiB) },
    { controller: 'pids', file: 'pids.max', value: String(PIDS) },
    { controller: 'cpuset', file: 'cpuset.cpus', value: cpu },
  ];

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await wrappedRootfs(sandbox, 'lim', PIDS + 20);
    // The wrapper is init when the monitor reports the start (not systemd yet): READY=1 is awaited here.
    await sandbox.runtime.start({ name: 'lim', rootfs, idmap: IDMAP, limits });
    state = await sandbox.runtime.waitReady('lim');
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('binds the init from its first instruction: memory limit, CPUs and process count', async () => {
    assert.ok(state.state === 'Running' && state.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(state)}`);
    const [first, ...more] = await records(rootfs);
    assert.equal(more.length, 0);
    assert.equal(first!.memory, 256 * MiB, 'the memory limit above init\'s cgroup');
    assert.equal(first!.cpus, cpu, 'the container\'s cpuset (written on init\'s cgroup first)');
    // The wrapper and perl count too; without the limit it would have reached PIDS + 20.
    assert.ok(first!.forks < PIDS && first!.forks >= PIDS - 10, `forked ${first!.forks} with pids.max ${PIDS}`);
  });

  it('writes them into the container\'s cgroup, and cpuset into init\'s child too', () => {
    assert.equal(read('memory', state.cgroup, 'memory.limit_in_bytes'), String(256 * MiB));
    assert.equal(read('pids', state.cgroup, 'pids.max'), String(PIDS));
    assert.equal(read('cpuset', state.cgroup, 'cpuset.cpus'), cpu);
    assert.equal(read('cpuset', `${state.cgroup}/payload`, 'cpuset.cpus'), cpu);
  });

  it('carries the values of the moment over to the new cgroup of a reboot from inside', { timeout: 180_000 }, async () => {
    // Changed live, as berthd does on an update: the reboot must keep these, not the spec's.
    await writeFile(path.join(CGROUP, 'memory', state.cgroup, 'memory.limit_in_bytes'), String(300 * MiB));
    await writeFile(path.join(CGROUP, 'pids', state.cgroup, 'pids.max'), '150');
    await sandbox.runtime.exec('lim', ['systemctl', 'reboot']).catch(() => undefined);
    let now = await sandbox.runtime.state('lim');
    while (now.reboots === 0 && now.state !== 'Stopped') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      now = await sandbox.runtime.state('lim');
    }
    assert.equal(now.lastExit, 'reboot');
    const ready = await sandbox.runtime.waitReady('lim');
    assert.equal(ready.reboots, 1);
    assert.notEqual(ready.cgroup, state.cgroup, 'a fresh cgroup');
    assert.equal(exists(path.join(CGROUP, 'memory', state.cgroup)), false, 'the old cgroup is gone');
    assert.equal(read('memory', ready.cgroup, 'memory.limit_in_bytes'), String(300 * MiB));
    assert.equal(read('pids', ready.cgroup, 'pids.max'), '150');
    assert.equal(read('cpuset', ready.cgroup, 'cpuset.cpus'), cpu);
    const boots = await records(rootfs);
    assert.equal(boots.length, 2);
    assert.equal(boots[1]!.memory, 300 * MiB, 'the new init was bound from its start');
    assert.equal(boots[1]!.cpus, cpu);
    assert.ok(boots[1]!.forks < 150 && boots[1]!.forks >= 140, `forked ${boots[1]!.forks} with pids.max 150`);
    state = ready;
  });

  it('stops and leaves nothing behind', async () => {
    await sandbox.runtime.stop('lim', { force: true });
    assert.ok(processGone(state.pid) && processGone(state.monitorPid));
    for (const mount of await cgroupMounts()) assert.equal(exists(path.join(mount, state.cgroup)), false, `${mount}/${state.cgroup}`);
  });
});

describe('runtime: a limit the kernel refuses fails the start and leaves nothing', () => {
  let sandbox: Sandbox;
  let rootfs: string;

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await wrappedRootfs(sandbox, 'bad', 50);
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('a memory limit of "abc" is a CgroupLimitError naming the file, the value and EINVAL', async () => {
    const limits: CgroupLimit[] = [
      { controller: 'pids', file: 'pids.max', value: '100' },
      { controller: 'memory', file: 'memory.limit_in_bytes', value: 'abc' },
    ];
    await assert.rejects(sandbox.runtime.start({ name: 'bad', rootfs, idmap: IDMAP, limits }), (error: unknown) => {
      assert.ok(error instanceof CgroupLimitError, String(error));
      assert.equal(error.code, 'RUNTIME.LIMIT_REFUSED');
      assert.deepEqual([error.container, error.controller, error.file, error.value], ['bad', 'memory', 'memory.limit_in_bytes', 'abc']);
      assert.deepEqual([error.errno, error.errnoCode], [22, 'EINVAL']);
      assert.equal(error.message, 'container bad: the kernel refused memory.limit_in_bytes="abc" (EINVAL)');
      return true;
    });
    await assertNoTrace(sandbox, 'bad', rootfs);
  });

  it('a cpuset beyond the host\'s CPUs is refused with ERANGE', async () => {
    const limits: CgroupLimit[] = [{ controller: 'cpuset', file: 'cpuset.cpus', value: '0-9999' }];
    await assert.rejects(sandbox.runtime.start({ name: 'bad', rootfs, idmap: IDMAP, limits }), (error: unknown) => {
      assert.ok(error instanceof CgroupLimitError, String(error));
      assert.deepEqual([error.file, error.value, error.errnoCode], ['cpuset.cpus', '0-9999', 'ERANGE']);
      return true;
    });
    await assertNoTrace(sandbox, 'bad', rootfs);
  });

  it('files that are not a limit of their controller, and unprintable values, are refused before anything runs', async () => {
    const invalid: CgroupLimit[] = [
      { controller: 'pids', file: 'cgroup.procs', value: '1' },
      { controller: 'memory', file: 'memory.../../x', value: '1' },
      { controller: 'memory', file: 'memory.limit_in_bytes', value: '1\n2' },
      { controller: 'memory', file: 'memory.limit_in_bytes', value: '' },
      { controller: 'devices' as CgroupLimit['controller'], file: 'devices.allow', value: 'a' },
    ];
    for (const limit of invalid) {
      await assert.rejects(sandbox.runtime.start({ name: 'bad', rootfs, idmap: IDMAP, limits: [limit] }), InvalidContainerSpecError, JSON.stringify(limit));
    }
    await assertNoTrace(sandbox, 'bad', rootfs);
  });
});
