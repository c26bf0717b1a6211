// limits.* proven in a real container through berthd: a process allocating past limits.memory is
// OOM-killed while the container and its systemd run on, and instance-oom reaches /1.0/events;
// forks past limits.processes fail; limits.cpu.allowance=25ms/100ms holds a busy loop to about a
// quarter of a CPU (measured from the cgroup's CPU time); limits.cpu=1 makes nproc print 1; and
// `berth info <name>` shows the limits in force, the usage and that lxcfs is not in use. Then,
// with lxcfs running on the host, `free` inside shows the container's memory limit.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '#runtime';
import { daemonApi } from '../support/api.js';
import { runBerth } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { listen, type EventRecorder } from '../support/events.js';

const NAME = 'quota';
const LXCFS_NAME = 'quota-lxcfs';
const MiB = 1024 * 1024;
const MINUTES = 60_000;
const LXCFS_DIR = '/var/lib/lxcfs';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('limits enforced in a real container', () => {
  let d: Daemon;
  let runtime: Runtime;
  let events: EventRecorder;

  const { finish, settle, removeInstances, booted } = daemonApi(() => d);
  const launch = async (name: string, config: Record<string, string>) => {
    await finish(await d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias: 'debian/12' }, config }));
    await finish(await d.api().put(`/1.0/instances/${name}/state`).send({ action: 'start' }));
    await booted(name);
  };
  const state = async (name: string) => (await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata;
  const sh = (name: string, script: string) => runtime.exec(name, ['sh', '-c', script]);

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    runtime = new Runtime({ berthDir: d.dir });
    events = await listen(d.socket, 'lifecycle');
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(await readFile(image)));
    await launch(NAME, { 'limits.memory': '128MiB', 'limits.memory.swap': 'false' });
  });
  after(async () => {
    events?.close();
    await removeInstances(NAME, LXCFS_NAME);
    await d.destroy();
  });

  it('OOM-kills a process allocating past limits.memory; the container runs on and instance-oom is published', { timeout: 3 * MINUTES }, async () => {
    const before = await runtime.state(NAME);
    // tail keeps its last line until it ends: 512 MiB without a newline cannot fit in 128 MiB.
    const hog = await sh(NAME, 'head -c 536870912 /dev/zero | tail >/dev/null');
    assert.notEqual(hog.exitCode, 0, 'the allocation was stopped');
    const oom = await events.waitFor((e) => e.metadata.action === 'instance-oom' && e.metadata.source === `/1.0/instances/${NAME}`, 30_000);
    const context = oom.metadata.context as { killed: number; total: number };
    assert.ok(context.killed >= 1 && context.total >= context.killed, JSON.stringify(context));

    const after = await runtime.state(NAME);
    assert.ok(after.state === 'Running' && after.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(after)}`);
    assert.equal(after.pid, before.pid, 'the same init: the container was not restarted');
    const systemd = await sh(NAME, 'systemctl show --property=SystemState --value; cat /proc/1/comm');
    assert.equal(systemd.stdout, 'running\nsystemd\n', systemd.stderr);
    const s = await state(NAME);
    assert.equal(s.status, 'Running');
    assert.ok(s.oom_kills >= 1, `oom_kills ${s.oom_kills}`);
    assert.equal(s.limits.memory, 128 * MiB);
  });

  it('refuses forks past limits.processes=50, set live', { timeout: 2 * MINUTES }, async () => {
    await d.api().patch(`/1.0/instances/${NAME}`).send({ config: { 'limits.processes': '50' } }).expect(200);
    assert.equal((await state(NAME)).limits.processes, 50);
    const forks = await sh(NAME, 'for i in $(seq 80); do sleep 3 & done; wait');
    assert.notEqual(forks.exitCode, 0);
    assert.match(forks.stderr, /fork|Resource temporarily unavailable/i);
    // Recent kernels count a refused fork in the forking task's cgroup (init's payload child) on v1.
    const cgroup = `/sys/fs/cgroup/pids/${(await runtime.state(NAME)).cgroup}`;
    const refused = async (dir: string) => Number(/^max (\d+)$/m.exec(await readFile(join(dir, 'pids.events'), 'utf8'))?.[1] ?? 0);
    assert.ok((await refused(cgroup)) + (await refused(join(cgroup, 'payload'))) >= 1, 'no refused fork counted in pids.events');
    // The sleeps that did start end by themselves; then there is room to fork again.
    for (let i = 0; i < 50 && (await state(NAME)).processes > 30; i++) await sleep(200);
    assert.equal((await sh(NAME, 'echo ok')).stdout, 'ok\n');
  });

  it('holds a busy loop to about a quarter of a CPU with limits.cpu.allowance=25ms/100ms, and limits.cpu=1 makes nproc print 1', { timeout: 2 * MINUTES }, async () => {
    const res = await d.api().patch(`/1.0/instances/${NAME}`).send({ config: { 'limits.cpu.allowance': '25ms/100ms', 'limits.cpu': '1' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await sh(NAME, 'nproc')).stdout, '1\n');
    const s = await state(NAME);
    assert.deepEqual(s.limits.cpu_allowance, { quota_us: 25000, period_us: 100000 });

    const loop = sh(NAME, 'timeout 7 sh -c "while :; do :; done"; true');
    await sleep(1500);
    const cpu0 = (await state(NAME)).cpu.usage as number;
    const t0 = process.hrtime.bigint();
    await sleep(4000);
    const cpu1 = (await state(NAME)).cpu.usage as number;
    const t1 = process.hrtime.bigint();
    await loop;
    const share = (cpu1 - cpu0) / Number(t1 - t0);
    assert.ok(share >= 0.15 && share <= 0.35, `the container used ${(share * 100).toFixed(1)}% of a CPU`);
  });

  it('berth info <name> shows the limits in force, the usage, the READY=1 time and that lxcfs is inactive', async () => {
    const r = await runBerth(['info', NAME], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, new RegExp(`^Name: ${NAME}$`, 'm'));
    assert.match(out, /^Status: RUNNING$/m);
    assert.match(out, /^PID: \d+$/m);
    assert.match(out, /^Ready: \d+\.\d\ds after start$/m);
    assert.match(out, /^lxcfs: inactive$/m);
    assert.match(out, /^ {2}Memory: 128\.00MiB \(hard\)$/m);
    assert.match(out, /^ {2}Swap: none$/m);
    assert.match(out, /^ {2}CPUs: \d+$/m);
    assert.match(out, /^ {2}CPU allowance: 25ms\/100ms$/m);
    assert.match(out, /^ {2}Processes: 50$/m);
    assert.match(out, /^ {4}Memory \(current\): [\d.]+MiB$/m);
    assert.match(out, /^ {2}OOM kills: [1-9]\d*$/m);
    assert.match(out, /^ {4}Written: /m);
    console.log(out);
  });

  describe('with lxcfs running on the host', () => {
    let lxcfs: ChildProcess | undefined;
    let pidDir: string;

    before(async () => {
      pidDir = await mkdtemp(join(tmpdir(), 'berth-lxcfs-'));
      await mkdir(LXCFS_DIR, { recursive: true });
      lxcfs = spawn('lxcfs', ['--foreground', `--pidfile=${join(pidDir, 'lxcfs.pid')}`, LXCFS_DIR], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        if (await readFile(join(LXCFS_DIR, 'proc', 'meminfo')).then(() => true, () => false)) break;
        await sleep(100);
      }
    });
    after(async () => {
      // The container goes first: its /proc files are lxcfs'.
      await settle(await d.api().put(`/1.0/instances/${LXCFS_NAME}/state`).send({ action: 'stop', force: true }));
      if (lxcfs?.exitCode === null) {
        const exited = new Promise((resolve) => lxcfs!.once('exit', resolve));
        lxcfs.kill('SIGTERM');
        await exited;
      }
      await new Promise((resolve) => spawn('umount', ['-l', LXCFS_DIR], { stdio: 'ignore' }).once('exit', resolve));
      await rm(pidDir, { recursive: true, force: true });
    });

    it('binds its files into a container started meanwhile: free shows the memory limit as the total', { timeout: 3 * MINUTES }, async () => {
      await launch(LXCFS_NAME, { 'limits.memory': '200MiB' });
      const free = await sh(LXCFS_NAME, 'free -b');
      const total = Number(/^Mem:\s+(\d+)/m.exec(free.stdout)?.[1]);
      assert.equal(total, 200 * MiB, free.stdout);
      assert.equal((await state(LXCFS_NAME)).lxcfs, true);
      const info = await runBerth(['info', LXCFS_NAME], { env: d.env });
      assert.match(info.stdout, /^lxcfs: active$/m);
      const uptime = await sh(LXCFS_NAME, 'cut -d. -f1 /proc/uptime');
      assert.ok(Number(uptime.stdout) < 600, `uptime is the container's: ${uptime.stdout}`);
    });
  });
});
