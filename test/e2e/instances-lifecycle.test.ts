import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { listen } from '../support/events.js';
import { hostIdRange } from '../../libs/instances/src/infrastructure/id-maps.js';

/** Where the daemon's unprivileged ranges start: root's /etc/subuid range (LXD's packages add one), else 1000000. */
const ID_BASE = hostIdRange().first;

const MiB = 1024 * 1024;

/** The cgroup (v1 memory hierarchy, or v2) of a host pid, with its ancestors, deepest first. */
function cgroupDirs(pid: number, controller: string): string[] {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes(controller));
  const path = v1 ? v1.split(':')[2] : lines.find((l) => l.startsWith('0::'))!.slice(3);
  const root = v1 ? `/sys/fs/cgroup/${controller}` : '/sys/fs/cgroup';
  const dirs: string[] = [];
  for (let p = path; p !== '/' && p !== ''; p = p.slice(0, p.lastIndexOf('/')) || '/') dirs.push(join(root, p));
  return dirs;
}

/** OOM kills recorded in a v1 memory cgroup and every cgroup below it (v2: memory.events). */
function oomKills(dir: string): number {
  const file = existsSync(join(dir, 'memory.oom_control')) ? 'memory.oom_control' : 'memory.events';
  let total = Number(/^oom_kill (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? 0);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) total += oomKills(join(dir, entry.name));
  return total;
}

describe('instances: a real Debian container from an image, through the API', () => {
  let d: Daemon;
  let pid = 0;
  const api = () => d.api();
  const { wait, finish, exec, booted } = daemonApi(() => d);

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    await finish(await api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
  });
  after(async () => {
    await d.destroy();
  });

  it('launches: create from the alias, start: Running once init runs, systemd boots on', async () => {
    const events = await listen(d.socket, 'lifecycle');
    await finish(await api().post('/1.0/instances').send({ name: 'web', source: { type: 'image', alias: 'debian/12' }, config: { 'limits.memory': '256MiB', 'limits.processes': '100' } }));
    await finish(await api().put('/1.0/instances/web/state').send({ action: 'start' }));
    const res = await api().get('/1.0/instances/web').expect(200);
    assert.equal(res.body.metadata.status, 'Running');
    assert.equal(res.body.metadata.status_code, 103);
    pid = (await api().get('/1.0/instances/web/state').expect(200)).body.metadata.pid;
    assert.ok(pid > 1);
    await events.waitFor((e) => e.metadata.action === 'instance-started' && e.metadata.source === '/1.0/instances/web');
    await events.waitFor((e) => e.metadata.action === 'instance-ready');
    events.close();
    // Booted: systemd has started its services.
    const state = await api().get('/1.0/instances/web/state').expect(200);
    assert.equal(state.body.metadata.pid, pid);
    assert.ok(state.body.metadata.processes > 1);
    assert.ok(state.body.metadata.memory.usage > 0);
  });

  it('runs systemd as PID 1 in its own namespaces, unprivileged', async () => {
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'systemd');
    for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time']) {
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace is shared with the host`);
    }
    const uid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1];
    assert.equal(uid, String(ID_BASE));
    const inside = await exec('web', ['cat', '/proc/1/comm']);
    assert.equal(inside.stdout.trim(), 'systemd');
    assert.equal((await exec('web', ['id', '-u'])).stdout.trim(), '0');
    assert.equal((await exec('web', ['hostname'])).stdout.trim(), 'web');
  });

  it('gives each container its own id range, kept across restarts', async () => {
    await wait(await api().post('/1.0/instances').send({ name: 'db', source: { type: 'image', alias: 'debian/12' } }));
    await wait(await api().put('/1.0/instances/db/state').send({ action: 'start' }));
    const dbPid = (await api().get('/1.0/instances/db/state').expect(200)).body.metadata.pid;
    assert.equal(readFileSync(`/proc/${dbPid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1], String(ID_BASE + 65_536));
    const cfg = (await api().get('/1.0/instances/db').expect(200)).body.metadata.config;
    assert.equal(cfg['volatile.idmap.base'], String(ID_BASE + 65_536));
    await wait(await api().put('/1.0/instances/db/state').send({ action: 'restart' }));
    const again = (await api().get('/1.0/instances/db/state').expect(200)).body.metadata.pid;
    assert.equal(readFileSync(`/proc/${again}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1], String(ID_BASE + 65_536));
    await wait(await api().put('/1.0/instances/db/state').send({ action: 'stop', force: true }));
    await wait(await api().delete('/1.0/instances/db'));
  });

  it('boots to systemctl is-system-running = running', async () => {
    const r = await exec('web', ['systemctl', 'is-system-running', '--wait']);
    assert.equal(r.stdout.trim(), 'running', `failed units: ${(await exec('web', ['systemctl', '--failed', '--no-legend'])).stdout}`);
    assert.equal(r.code, 0);
    const failing = await exec('web', ['sh', '-c', 'exit 7']);
    assert.equal(failing.code, 7);
  });

  it('holds its limits: the memory limit is in the cgroup and really OOM-kills, the pids limit refuses forks', async () => {
    const limited = cgroupDirs(pid, 'memory').find((dir) => existsSync(join(dir, 'memory.limit_in_bytes')) && Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8')) === 256 * MiB);
    assert.ok(limited, 'no cgroup above systemd carries the 256MiB limit');
    const hog = await exec('web', ['sh', '-c', 'head -c 536870912 /dev/zero | tail > /dev/null']);
    assert.notEqual(hog.code, 0);
    // cgroup v1 counts an OOM kill in the victim's own memcg, which may sit below the limited one.
    assert.ok(oomKills(limited!) >= 1, `no OOM kill recorded under ${limited}`);
    assert.equal((await exec('web', ['systemctl', 'is-system-running', '--wait'])).stdout.trim(), 'running');
    const forks = await exec('web', ['sh', '-c', 'for i in $(seq 150); do sleep 3 & done; wait']);
    assert.match(forks.stderr, /fork|Resource temporarily unavailable|Cannot fork/i);
  });

  it('applies a limit change to the running container at once, and says what the kernel took', async () => {
    const limited = cgroupDirs(pid, 'memory').find((dir) => existsSync(join(dir, 'memory.limit_in_bytes')) && Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8')) === 256 * MiB)!;
    const res = await api().patch('/1.0/instances/web').send({ config: { 'limits.memory': '512MiB' } }).expect(200);
    assert.deepEqual(res.body.metadata.applied.find((a: { file: string }) => a.file === 'memory.limit_in_bytes'), { file: 'memory.limit_in_bytes', requested: String(512 * MiB), actual: String(512 * MiB) });
    assert.equal(Number(readFileSync(join(limited, 'memory.limit_in_bytes'), 'utf8')), 512 * MiB);
    assert.equal((await api().get('/1.0/instances/web/state').expect(200)).body.metadata.pid, pid);
    const refused = await api().patch('/1.0/instances/web').send({ config: { 'limits.memory': '0%' } });
    assert.equal(refused.status, 400);
    assert.equal(Number(readFileSync(join(limited, 'memory.limit_in_bytes'), 'utf8')), 512 * MiB);
    assert.equal((await api().get('/1.0/instances/web').expect(200)).body.metadata.config['limits.memory'], '512MiB');
  });

  it('refuses a second start and an exec in a stopped instance, changing nothing', async () => {
    const again = await api().put('/1.0/instances/web/state').send({ action: 'start' });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'The instance is already running');
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'systemd');
  });

  it('keeps running while berthd stops and starts again', async () => {
    assert.equal(await d.stop(), 0);
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'systemd');
    d = await d.restart();
    const res = await api().get('/1.0/instances/web/state').expect(200);
    assert.equal(res.body.metadata.pid, pid);
    assert.equal((await exec('web', ['systemctl', 'is-system-running', '--wait'])).stdout.trim(), 'running');
  });

  it('keeps running when berthd is killed with SIGKILL, and is adopted by the next one', async () => {
    await d.kill('SIGKILL');
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'systemd');
    d = await d.restart();
    const res = await api().get('/1.0/instances/web/state').expect(200);
    assert.equal(res.body.metadata.status, 'Running');
    assert.equal(res.body.metadata.pid, pid);
    assert.equal((await exec('web', ['systemctl', 'is-system-running', '--wait'])).stdout.trim(), 'running');
  });

  it('stops cleanly: no process, no cgroup, no monitor left', async () => {
    const memoryDirs = cgroupDirs(pid, 'memory');
    await finish(await api().put('/1.0/instances/web/state').send({ action: 'stop', timeout: 30 }));
    assert.equal(existsSync(`/proc/${pid}`), false);
    const res = await api().get('/1.0/instances/web').expect(200);
    assert.equal(res.body.metadata.status, 'Stopped');
    assert.equal(existsSync(memoryDirs[memoryDirs.length - 2] ?? memoryDirs[0]), false);
    assert.equal(existsSync(join(d.dir, 'containers', 'web', 'monitor.sock')), false);
    const again = await api().put('/1.0/instances/web/state').send({ action: 'stop' });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'The instance is already stopped');
    const stale = await api().post('/1.0/instances/web/exec').send({ command: ['true'], 'record-output': true });
    assert.equal(stale.status, 400);
    assert.equal(stale.body.error, 'Instance "web" is not running');
  });

  it('notices a poweroff from inside: the instance becomes Stopped by itself', async () => {
    await wait(await api().put('/1.0/instances/web/state').send({ action: 'start' }));
    await booted('web'); // systemctl needs systemd up: a start ends once init runs
    const events = await listen(d.socket, 'lifecycle');
    await finish(await api().post('/1.0/instances/web/exec').send({ command: ['systemctl', 'poweroff', '--no-block'], 'record-output': true }));
    await events.waitFor((e) => e.metadata.action === 'instance-stopped' && e.metadata.source === '/1.0/instances/web', 60_000);
    events.close();
    const res = await api().get('/1.0/instances/web').expect(200);
    assert.equal(res.body.metadata.status, 'Stopped');
  });

  it('deletes the instance and its volume', async () => {
    await wait(await api().delete('/1.0/instances/web'));
    assert.deepEqual(await readdir(join(d.dir, 'storage', 'default', 'containers')), []);
    // Nothing else of it under BERTH_DIR: no runtime directory (console log), no exec output.
    assert.equal(existsSync(join(d.dir, 'containers', 'web')), false);
    assert.equal(existsSync(join(d.dir, 'logs', 'web')), false);
  });
});
