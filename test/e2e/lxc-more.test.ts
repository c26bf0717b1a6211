// More of LXD's own client (Debian's lxd-client, LXD 5.0.2) against berthd, with a real container:
// image list and alias create, monitor, restart, pause/start (the cgroup freezer), a proxy device
// added with `lxc config device add`, profile assign, and `lxc info --show-log`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcEnv, lxcRunner } from '../support/lxc.js';
import { exchange, freePort } from '../support/net.js';

const exec = promisify(execFile);

/** The freezer state of every task of a cgroup v1 freezer directory: `State:` of /proc/<pid>/status. */
function taskStates(freezerDir: string): string[] {
  const pids = readFileSync(join(freezerDir, 'payload', 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
  return pids.map((pid) => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?');
}

describe("LXD's lxc client against berthd: restart, pause, devices, profiles, images, monitor, logs", () => {
  let d: Daemon;
  const env = () => lxcEnv(d);
  const lxc = lxcRunner(() => d, 180_000);
  const { settle, booted } = daemonApi(() => d);
  const csv = async (...args: string[]) => (await lxc(...args, '--format', 'csv')).stdout;
  const state = async (name: string) => (await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata as { status: string; pid: number };

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
  });
  after(async () => {
    await settle(await d.api().put('/1.0/instances/m1/state').send({ action: 'stop', force: true }));
    await d.destroy();
  });

  it('lxc image import, lxc image alias create, lxc image list', async () => {
    const { stdout } = await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    const fingerprint = /fingerprint: ([0-9a-f]{64})/.exec(stdout)?.[1];
    assert.ok(fingerprint, stdout);
    await lxc('image', 'alias', 'create', 'bookworm', fingerprint.slice(0, 12));
    const alias = await d.api().get('/1.0/images/aliases/bookworm').expect(200);
    assert.equal(alias.body.metadata.target, fingerprint);
    const rows = (await csv('image', 'list')).trim().split('\n');
    assert.equal(rows.length, 1, rows.join('\n'));
    const cells = rows[0]!.split(',');
    // lxc shows the first alias by name and counts the others.
    assert.equal(cells[0], 'bookworm (1 more)');
    assert.equal(await csv('image', 'alias', 'list'), `bookworm,${fingerprint.slice(0, 12)},CONTAINER,\ndebian/12,${fingerprint.slice(0, 12)},CONTAINER,\n`);
    assert.equal(cells[1], fingerprint.slice(0, 12));
    assert.ok(cells.includes('CONTAINER'), rows[0]);
  });

  it('lxc monitor sees the lifecycle events of lxc launch', async () => {
    const monitor = spawn('lxc', ['monitor', '--type', 'lifecycle', '--format', 'json'], { env: env(), timeout: 240_000 });
    let out = '';
    monitor.stdout.on('data', (c) => (out += c));
    try {
      await new Promise((r) => setTimeout(r, 500)); // its event websocket connects
      await lxc('launch', 'bookworm', 'm1');
      for (let i = 0; i < 100 && !out.includes('instance-started'); i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      monitor.kill();
    }
    assert.match(out, /"action":\s*"instance-created"/);
    assert.match(out, /"action":\s*"instance-started"/);
    assert.match(out, /"source":\s*"\/1\.0\/instances\/m1"/);
    assert.equal(await csv('list', 'm1'), 'm1,RUNNING,,,CONTAINER,0\n');
  });

  it('lxc pause freezes every process of the container in its freezer cgroup, lxc start thaws them', async () => {
    await booted('m1'); // lxc launch returned once init ran: systemd's services come with its boot
    const { pid } = await state('m1');
    const cgroup = /^\d+:freezer:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
    assert.ok(cgroup, 'init is in a freezer cgroup');
    const freezer = join('/sys/fs/cgroup/freezer', cgroup.replace(/\/payload$/, ''));
    assert.equal(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim(), 'THAWED');
    await lxc('pause', 'm1');
    assert.equal(await csv('list', 'm1'), 'm1,FROZEN,,,CONTAINER,0\n');
    assert.equal((await state('m1')).status, 'Frozen');
    assert.equal(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim(), 'FROZEN');
    assert.equal(readFileSync(join(freezer, 'payload', 'freezer.parent_freezing'), 'utf8').trim(), '1');
    // A frozen task sleeps in the freezer (D) whatever it was doing; none is left runnable or sleeping.
    const frozen = taskStates(freezer);
    assert.ok(frozen.length > 1, 'systemd and its services');
    assert.deepEqual([...new Set(frozen)], ['D'], frozen.join(' '));
    await assert.rejects(lxc('pause', 'm1'), (e: { stderr: string }) => /The instance is already frozen/.test(e.stderr));
    await lxc('start', 'm1');
    assert.equal(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim(), 'THAWED');
    assert.equal(await csv('list', 'm1'), 'm1,RUNNING,,,CONTAINER,0\n');
    assert.equal((await state('m1')).pid, pid, 'the same init, thawed');
    const { stdout } = await lxc('exec', 'm1', '--', 'systemctl', 'is-system-running', '--wait');
    assert.equal(stdout, 'running\n');
  });

  it('lxc restart gives the container a new init', async () => {
    const before = (await state('m1')).pid;
    await lxc('restart', 'm1');
    const after = await state('m1');
    assert.equal(after.status, 'Running');
    assert.notEqual(after.pid, before);
    assert.equal(existsSync(`/proc/${before}`), false);
    assert.equal(readFileSync(`/proc/${after.pid}/comm`, 'utf8').trim(), 'systemd');
    // lxc restart returns once the new init runs; the tests below need systemd booted (its READY=1).
    await booted('m1');
  });

  it('lxc config device add <c> <dev> proxy relays a host port into the running container', async () => {
    const port = await freePort();
    await lxc('exec', 'm1', '--', 'systemd-run', '--unit=echo80', '--', 'systemd-socket-activate', '--inetd', '--accept', '-l', '127.0.0.1:80', 'sh', '-c', 'echo "hello from $(hostname)"; exec cat');
    await lxc('config', 'device', 'add', 'm1', 'web', 'proxy', `listen=tcp:127.0.0.1:${port}`, 'connect=tcp:127.0.0.1:80');
    const { stdout } = await lxc('config', 'device', 'show', 'm1');
    assert.match(stdout, /^web:\n {2}connect: tcp:127\.0\.0\.1:80\n {2}listen: tcp:127\.0\.0\.1:\d+\n {2}type: proxy$/m);
    let answer = '';
    for (let i = 0; i < 100 && answer !== 'hello from m1\nping'; i++) {
      answer = await exchange({ host: '127.0.0.1', port }, 'ping');
      if (answer !== 'hello from m1\nping') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(answer, 'hello from m1\nping');
  });

  it('lxc profile assign replaces the profiles, in order', async () => {
    await lxc('profile', 'create', 'team');
    await lxc('profile', 'set', 'team', 'user.team', 'ops');
    await lxc('profile', 'assign', 'm1', 'default,team');
    let instance = (await d.api().get('/1.0/instances/m1').expect(200)).body.metadata;
    assert.deepEqual(instance.profiles, ['default', 'team']);
    assert.equal(instance.expanded_config['user.team'], 'ops');
    await lxc('profile', 'assign', 'm1', 'default');
    instance = (await d.api().get('/1.0/instances/m1').expect(200)).body.metadata;
    assert.deepEqual(instance.profiles, ['default']);
    assert.equal(instance.expanded_config['user.team'], undefined);
  });

  it('lxc info --show-log prints the container log (its console: systemd booting)', async () => {
    const { stdout } = await lxc('info', 'm1', '--show-log');
    assert.match(stdout, /^Status: RUNNING$/m);
    const log = stdout.split(/^Log:$/m)[1] ?? '';
    assert.match(log, /systemd/);
    assert.match(log, /Debian GNU\/Linux 12/);
    const raw = await d.api().get('/1.0/instances/m1/logs/lxc.log').buffer(true).expect(200);
    // The monitor may append meanwhile: what was answered is the start of the file.
    assert.ok(readFileSync(join(d.dir, 'containers', 'm1', 'console.log')).subarray(0, raw.body.length).equals(raw.body));
    assert.ok(raw.body.length > 0);
    const list = await d.api().get('/1.0/instances/m1/logs').expect(200);
    assert.deepEqual(list.body.metadata, ['/1.0/instances/m1/logs/lxc.log']);
    await d.api().get('/1.0/instances/nope/logs/lxc.log').expect(404);
  });
});
