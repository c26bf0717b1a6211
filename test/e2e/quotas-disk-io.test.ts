// Disk I/O limits on the root disk proven in a real container through berthd: limits.write=5MB
// holds a direct-I/O dd inside to about 5 MB/s (the rate dd itself reports, in a range), the
// throttle sits on the block device under the btrfs pool (its loop device) in the container's
// cgroup and in the quota row; lifting it live lets dd run much faster; bad values are 400s
// naming the device key with nothing stored. Then `berth info <name>` lists a failed unit.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '#runtime';
import { daemonApi } from '../support/api.js';
import { runBerth } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { queryEmbedded } from '../support/db.js';
import { ensureDebianImage } from '../support/debian-image.js';

const NAME = 'diskio';
const MINUTES = 60_000;
const ROOT = { type: 'disk', path: '/', pool: 'default' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('disk I/O limits in a real container, and failed units in berth info', () => {
  let d: Daemon;
  let runtime: Runtime;

  const { finish, removeInstances, booted } = daemonApi(() => d);
  const quotaRow = async (name: string) =>
    (await queryEmbedded(d.dir, 'SELECT q.disk_read_bps, q.disk_read_iops, q.disk_write_bps, q.disk_write_iops FROM quotas q JOIN instances i ON i.id = q.instance_id WHERE i.name = $1', [name]))[0];
  /** dd's own report: "52428800 bytes (52 MB, 50 MiB) copied, 10.0 s, 5.2 MB/s" -> MB/s from bytes and seconds. */
  const ddRate = async (): Promise<number> => {
    const r = await runtime.exec(NAME, ['sh', '-c', 'dd if=/dev/zero of=/var/tmp/x bs=1M count=50 oflag=direct 2>&1; rm -f /var/tmp/x']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const m = /^(\d+) bytes .* copied, ([\d.]+) s,/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    return Number(m[1]) / Number(m[2]) / 1e6;
  };
  /** The loop device under the pool, as `MAJ:MIN`, from the kernel's own view of it. */
  const poolDevice = async () => {
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    const line = mounts.split('\n').find((l) => l.split(' ')[4] === join(d.dir, 'storage', 'default'));
    assert.ok(line, 'the pool is mounted');
    const source = line.split(' - ')[1].split(' ')[1];
    assert.match(source, /^\/dev\/loop\d+$/);
    return (await readFile(`/sys/class/block/${source.slice('/dev/'.length)}/dev`, 'utf8')).trim();
  };
  /** A throttle of the container's v1 blkio cgroup and of init's `payload` child, where its processes are (v1 throttles are flat). */
  const throttle = async (file: string) => {
    const dir = join('/sys/fs/cgroup/blkio', (await runtime.state(NAME)).cgroup);
    const [own, payload] = await Promise.all([dir, join(dir, 'payload')].map(async (d) => (await readFile(join(d, `blkio.throttle.${file}`), 'utf8')).trim()));
    assert.equal(payload, own, `${file}: the payload holds what the container's cgroup holds`);
    return own;
  };

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    runtime = new Runtime({ berthDir: d.dir });
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(await readFile(image)));
  });
  after(async () => {
    await removeInstances(NAME);
    await d.destroy();
  });

  it('refuses bad limits.read/limits.write with a 400 naming the key, storing nothing', async () => {
    for (const [key, value] of [['limits.read', '-1'], ['limits.write', '10XB'], ['limits.read', 'abciops']]) {
      const res = await d.api().post('/1.0/instances').send({ name: NAME, source: { type: 'image', alias: 'debian/12' }, devices: { root: { ...ROOT, [key]: value } } });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.ok(res.body.error.includes(`devices["root"]["${key}"]`), res.body.error);
    }
    assert.equal((await d.api().get(`/1.0/instances/${NAME}`)).status, 404);
    assert.deepEqual(await queryEmbedded(d.dir, 'SELECT count(*)::int AS n FROM instances'), [{ n: 0 }]);
  });

  it('limits.write=5MB holds a direct-I/O dd inside to about 5 MB/s, on the loop device under the pool', { timeout: 5 * MINUTES }, async () => {
    await finish(await d.api().post('/1.0/instances').send({ name: NAME, source: { type: 'image', alias: 'debian/12' }, devices: { root: { ...ROOT, 'limits.write': '5MB' } } }));
    assert.deepEqual(await quotaRow(NAME), { disk_read_bps: null, disk_read_iops: null, disk_write_bps: '5000000', disk_write_iops: null });
    await finish(await d.api().put(`/1.0/instances/${NAME}/state`).send({ action: 'start' }));
    await booted(NAME);

    const device = await poolDevice();
    assert.equal(await throttle('write_bps_device'), `${device} 5000000`);
    assert.equal(await throttle('read_bps_device'), '');
    const rate = await ddRate();
    assert.ok(rate >= 2 && rate <= 8, `dd wrote at ${rate.toFixed(2)} MB/s under limits.write=5MB`);

    // A bad value on the running instance changes nothing: neither the record nor the cgroup.
    const bad = await d.api().patch(`/1.0/instances/${NAME}`).send({ devices: { root: { ...ROOT, 'limits.write': 'abciops' } } });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.ok(bad.body.error.includes('devices["root"]["limits.write"]'), bad.body.error);
    assert.equal((await d.api().get(`/1.0/instances/${NAME}`).expect(200)).body.metadata.devices.root['limits.write'], '5MB');
    assert.equal((await quotaRow(NAME)).disk_write_bps, '5000000');
    assert.equal(await throttle('write_bps_device'), `${device} 5000000`);
  });

  it('changes live: iops, then no limit at all, and dd runs much faster', { timeout: 5 * MINUTES }, async () => {
    const device = await poolDevice();
    const iops = await d.api().patch(`/1.0/instances/${NAME}`).send({ devices: { root: { ...ROOT, 'limits.read': '10MB', 'limits.write': '100iops' } } });
    assert.equal(iops.status, 200, JSON.stringify(iops.body));
    const applied = iops.body.metadata.applied as Array<{ file: string; actual: string }>;
    assert.deepEqual(applied.filter((a) => a.file.startsWith('blkio.throttle.')).map((a) => [a.file, a.actual]), [
      ['blkio.throttle.read_bps_device', `${device} 10000000`],
      ['blkio.throttle.read_iops_device', ''],
      ['blkio.throttle.write_bps_device', ''],
      ['blkio.throttle.write_iops_device', `${device} 100`],
    ]);
    assert.deepEqual(await quotaRow(NAME), { disk_read_bps: '10000000', disk_read_iops: null, disk_write_bps: null, disk_write_iops: 100 });

    const lifted = await d.api().patch(`/1.0/instances/${NAME}`).send({ devices: { root: { ...ROOT } } });
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    for (const file of ['read_bps_device', 'read_iops_device', 'write_bps_device', 'write_iops_device']) assert.equal(await throttle(file), '', file);
    assert.deepEqual(await quotaRow(NAME), { disk_read_bps: null, disk_read_iops: null, disk_write_bps: null, disk_write_iops: null });
    const rate = await ddRate();
    assert.ok(rate > 20, `dd wrote at ${rate.toFixed(2)} MB/s without a limit`);
  });

  it('berth info <name> lists the failed systemd units inside', { timeout: 2 * MINUTES }, async () => {
    const run = await runtime.exec(NAME, ['systemd-run', '--unit=berth-fail', 'false']);
    assert.equal(run.exitCode, 0, run.stderr);
    for (let i = 0; i < 100; i++) {
      const failed = await runtime.exec(NAME, ['systemctl', 'is-failed', 'berth-fail.service']);
      if (failed.stdout.trim() === 'failed') break;
      await sleep(100);
    }
    const info = await runBerth(['info', NAME], { env: d.env });
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^Failed units:\n(?: {2}.*\n)* {2}berth-fail\.service \(loaded failed failed\)/m);

    // Asked afresh on every call: once reset, the unit is no longer listed.
    await runtime.exec(NAME, ['systemctl', 'reset-failed', 'berth-fail.service']);
    const again = await runBerth(['info', NAME], { env: d.env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Failed units/m);
    assert.doesNotMatch(again.stdout, /berth-fail/);
  });
});
