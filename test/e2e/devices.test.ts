// LXD's disk devices with a host source and unix-char devices on a real berthd and real
// containers: bound at start (a directory, a file, a host unix socket, a character device; read-only,
// noexec, optional), hot-added and removed with LXD's own `lxc config device add|remove`, device
// nodes allowed in the device cgroup, a guest-planted symlink that does not lead out of the root,
// and a start that fails on a missing source leaving nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const run = promisify(execFile);

/** The host's mount table: every mount point. */
const hostMountPoints = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => line.split(' ')[4]!);

/** The v1 devices cgroup directory of a host pid, if the host has that hierarchy. */
function devicesCgroup(pid: number): string | undefined {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1] === 'devices');
  return line ? join('/sys/fs/cgroup/devices', line.split(':')[2]!) : undefined;
}

/** Every cgroup directory named after the instance, in every hierarchy. */
function cgroupsOf(instance: string): string[] {
  const found: string[] = [];
  for (const top of ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h))]) {
    const berth = join(top, 'berth');
    if (!existsSync(berth)) continue;
    for (const entry of readdirSync(berth)) if (entry.startsWith(`${instance}-`)) found.push(join(berth, entry));
  }
  return found;
}

describe('disk and unix-char devices bound into real containers', () => {
  let d: Daemon;
  let host: string;
  let server: net.Server;
  const received: string[] = [];
  const lxc = lxcRunner(() => d, 180_000);
  const { finish, removeInstances, exec } = daemonApi(() => d);
  /** Runs a shell script in the instance: its exit code and output. */
  const sh = (name: string, script: string) => exec(name, ['sh', '-c', script]);
  const create = (name: string, devices: Record<string, Record<string, string>>) =>
    d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias: 'debian/12' }, devices });
  const initPid = async (name: string) => (await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata.pid as number;

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    await configureLxc(d);
    host = await mkdtemp(join(tmpdir(), 'berth-devices-e2e-'));
    await chmod(host, 0o755);
    for (const dir of ['data', 'ro', 'nx', 'hot', 'payload', 'victim']) {
      await mkdir(join(host, dir));
      await chmod(join(host, dir), 0o777);
    }
    await writeFile(join(host, 'data', 'hello'), 'hello from the host\n', { mode: 0o644 });
    await writeFile(join(host, 'conf.txt'), 'key=value\n', { mode: 0o644 });
    await writeFile(join(host, 'nx', 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
    await writeFile(join(host, 'hot', 'file'), 'hot-plugged\n', { mode: 0o644 });
    await writeFile(join(host, 'payload', 'payload-file'), 'payload\n', { mode: 0o644 });
    await mkdir(join(host, 'secret'), { mode: 0o700 });
    await writeFile(join(host, 'secret', 'key'), 'secret\n', { mode: 0o600 });
    await run('mknod', ['-m', '0666', join(host, 'tun'), 'c', '10', '200']);
    await run('mknod', ['-m', '0600', join(host, 'blk'), 'b', '7', '0']);
    server = net.createServer((socket) => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => received.push(text));
    });
    await new Promise<void>((resolve) => server.listen(join(host, 'app.sock'), resolve));
    await chmod(join(host, 'app.sock'), 0o666);
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
  });

  after(async () => {
    await removeInstances('dev1', 'dev2', 'bad');
    await d.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(host, { recursive: true, force: true });
  });

  it('refuses device keys a bind cannot honour, naming the field, and records nothing', async () => {
    const refused = async (device: Record<string, string>, error: string) => {
      const res = await create('bad', { d: device });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, error);
    };
    await refused(
      { type: 'disk', source: host, path: '/srv', 'raw.mount.options': 'nosuid,size=1m' },
      'Invalid devices["d"]["raw.mount.options"]: "size=1m" is not an option of a bind mount (ro, rw, nosuid, nodev, noexec, nosymfollow, nodiratime, relatime, noatime, strictatime)',
    );
    await refused(
      { type: 'disk', source: host, path: '/srv', propagation: 'rslave' },
      'Invalid devices["d"]["propagation"]: must be one of private, rprivate, unbindable, runbindable (host mounts do not propagate into a Berth container)',
    );
    await refused({ type: 'disk', source: host, path: '/srv', readonly: 'maybe' }, 'Invalid devices["d"]["readonly"]: must be a boolean');
    await refused({ type: 'unix-char', path: '/dev/x', major: '1' }, 'Invalid devices["d"]["source"]: a unix-char device needs a source, or a path with major and minor');
    await d.api().get('/1.0/instances/bad').expect(404);
  });

  it('binds a directory, a file, a host unix socket and a character device at start; readonly, noexec and optional sources as asked', async () => {
    await finish(
      await create('dev1', {
        data: { type: 'disk', source: join(host, 'data'), path: '/srv/data', recursive: 'true' },
        conf: { type: 'disk', source: join(host, 'conf.txt'), path: '/etc/berth/conf.txt' },
        sock: { type: 'disk', source: join(host, 'app.sock'), path: '/run/app.sock' },
        tun: { type: 'disk', source: '/dev/net/tun', path: '/srv/tun' },
        opentun: { type: 'disk', source: join(host, 'tun'), path: '/srv/opentun' },
        secret: { type: 'disk', source: join(host, 'secret'), path: '/srv/secret', shift: 'true' },
        ro: { type: 'disk', source: join(host, 'ro'), path: '/srv/ro', readonly: 'true', propagation: 'unbindable' },
        nx: { type: 'disk', source: join(host, 'nx'), path: '/srv/nx', 'raw.mount.options': 'noexec,nosuid' },
        gone: { type: 'disk', source: join(host, 'missing'), path: '/srv/missing', required: 'false' },
        fuse: { type: 'unix-char', source: '/dev/fuse', path: '/dev/berth-fuse', uid: '1000', gid: '1000', mode: '0600' },
      }),
    );
    await lxc('start', 'dev1');

    assert.deepEqual(await sh('dev1', 'cat /srv/data/hello && echo written > /srv/data/from-inside'), { code: 0, stdout: 'hello from the host\n', stderr: '' });
    assert.equal(readFileSync(join(host, 'data', 'from-inside'), 'utf8'), 'written\n');
    assert.deepEqual(await sh('dev1', 'test -f /etc/berth/conf.txt && cat /etc/berth/conf.txt'), { code: 0, stdout: 'key=value\n', stderr: '' });

    // A real connection through the bound socket to the host's server.
    assert.deepEqual(await sh('dev1', 'test -S /run/app.sock && logger -T -u /run/app.sock --socket-errors=on hello-from-inside'), { code: 0, stdout: '', stderr: '' });
    assert.ok(received.some((text) => text.includes('hello-from-inside')), JSON.stringify(received));

    // The host's tun node at a path of the disk: root's and 0600 on this host, so nobody's inside
    // (as in LXD without shift); a tun node open to all, made on the host, opens read-write under
    // the device cgroup.
    assert.deepEqual(await sh('dev1', 'test -c /srv/tun && stat -c "%t:%T %U %a" /srv/tun'), { code: 0, stdout: `a:c8 nobody ${(statSync('/dev/net/tun').mode & 0o777).toString(8)}\n`, stderr: '' });
    assert.deepEqual(await sh('dev1', 'test -c /srv/opentun && exec 3<>/srv/opentun && echo opened'), { code: 0, stdout: 'opened\n', stderr: '' });

    // shift=true: the host's root-only directory is the container root's, readable and writable.
    assert.deepEqual(await sh('dev1', 'stat -c "%U %a" /srv/secret && cat /srv/secret/key && echo new > /srv/secret/new'), { code: 0, stdout: 'root 700\nsecret\n', stderr: '' });
    assert.equal(statSync(join(host, 'secret', 'new')).uid, 0);

    const ro = await sh('dev1', 'touch /srv/ro/x');
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    assert.equal(existsSync(join(host, 'ro', 'x')), false);

    assert.match((await sh('dev1', 'grep " /srv/ro " /proc/self/mountinfo')).stdout, / ro,.* unbindable /);

    const nx = await sh('dev1', '/srv/nx/run.sh');
    assert.equal(nx.code, 126);
    assert.match(nx.stderr, /Permission denied/);
    assert.deepEqual(await sh('dev1', 'sh /srv/nx/run.sh'), { code: 0, stdout: 'ran\n', stderr: '' });

    assert.equal((await sh('dev1', 'test -e /srv/missing')).code, 1);

    // The unix-char node: the device's numbers, its owner as the container sees it, its mode; usable.
    assert.deepEqual(await sh('dev1', 'stat -c "%F %t:%T %u:%g %a" /dev/berth-fuse'), { code: 0, stdout: 'character special file a:e5 1000:1000 600\n', stderr: '' });
    // The host node went once bound: nothing of it stays under the daemon's directory.
    assert.equal(existsSync(join(d.dir, 'containers', 'dev1', 'devices')), false);
  });

  it('lxc config device add binds a disk into the running container, remove detaches it, without a restart', async () => {
    const pid = await initPid('dev1');
    await lxc('config', 'device', 'add', 'dev1', 'hot', 'disk', `source=${join(host, 'hot')}`, 'path=/mnt/hot');
    assert.deepEqual(await sh('dev1', 'cat /mnt/hot/file'), { code: 0, stdout: 'hot-plugged\n', stderr: '' });
    await lxc('config', 'device', 'remove', 'dev1', 'hot');
    assert.deepEqual(await sh('dev1', 'test -e /mnt/hot/file || echo gone; grep -c " /mnt/hot " /proc/self/mountinfo'), { code: 1, stdout: 'gone\n0\n', stderr: '' });
    assert.equal(await initPid('dev1'), pid);
  });

  it('a hot-added disk whose source is missing answers an error naming the device and changes nothing', async () => {
    const res = await d.api().patch('/1.0/instances/dev1').send({ devices: { lost: { type: 'disk', source: join(host, 'nowhere'), path: '/mnt/lost' } } });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /^Failed to change device "lost" of instance "dev1": open_tree\(2\) failed: ENOENT \(device lost: source \/.*\/nowhere\)$/);
    const devices = (await d.api().get('/1.0/instances/dev1').expect(200)).body.metadata.devices;
    assert.equal(devices.lost, undefined);
    assert.equal((await sh('dev1', 'test -e /mnt/lost')).code, 1);
    // A block device as a disk's source is a filesystem to mount in LXD, which Berth does not do: refused, not bound as a node.
    const blk = await d.api().patch('/1.0/instances/dev1').send({ devices: { blk: { type: 'disk', source: join(host, 'blk'), path: '/mnt/blk' } } });
    assert.equal(blk.status, 400);
    assert.match(blk.body.error, /^Failed to change device "blk" of instance "dev1": open_tree\(2\) failed: EOPNOTSUPP \(device blk: \/.*\/blk is a block device: mounting its filesystem is not supported/);
    assert.equal((await d.api().get('/1.0/instances/dev1').expect(200)).body.metadata.devices.blk, undefined);
  });

  it('a hot-added unix-char device appears with its numbers, is allowed in the device cgroup, and is denied again on removal', async () => {
    const cgroup = devicesCgroup(await initPid('dev1'));
    const listed = () => readFileSync(join(cgroup!, 'devices.list'), 'utf8').split('\n');
    if (cgroup) assert.equal(listed().includes('c 1:11 rwm'), false);
    await lxc('config', 'device', 'add', 'dev1', 'kmsg', 'unix-char', 'source=/dev/kmsg', 'path=/dev/berth-kmsg');
    assert.deepEqual(await sh('dev1', 'stat -c "%F %t:%T" /dev/berth-kmsg && echo berth-devices-e2e > /dev/berth-kmsg && echo written'), {
      code: 0,
      stdout: 'character special file 1:b\nwritten\n',
      stderr: '',
    });
    if (cgroup) assert.equal(listed().includes('c 1:11 rwm'), true);
    await lxc('config', 'device', 'remove', 'dev1', 'kmsg');
    assert.equal((await sh('dev1', 'test -e /dev/berth-kmsg')).code, 1);
    if (cgroup) assert.equal(listed().includes('c 1:11 rwm'), false);
  });

  it('a symlink the guest planted at the target resolves inside its root: the host path it names is untouched', async () => {
    const victim = join(host, 'victim');
    // Inside, the same absolute path as the host's victim exists, and the target links to it.
    assert.equal((await sh('dev1', `mkdir -p ${victim} && ln -s ${victim} /srv/escape`)).code, 0);
    await lxc('config', 'device', 'add', 'dev1', 'payload', 'disk', `source=${join(host, 'payload')}`, 'path=/srv/escape');
    assert.deepEqual(await sh('dev1', `cat ${victim}/payload-file`), { code: 0, stdout: 'payload\n', stderr: '' });
    assert.deepEqual(await readdir(victim), []);
    assert.equal(hostMountPoints().includes(victim), false);
    await lxc('config', 'device', 'remove', 'dev1', 'payload');
    assert.deepEqual(await sh('dev1', `test -e ${victim}/payload-file || echo gone`), { code: 0, stdout: 'gone\n', stderr: '' });
  });

  it('a reboot from inside binds the devices again, hot-added ones included, in the new init\'s namespaces', async () => {
    await lxc('config', 'device', 'add', 'dev1', 'kept', 'disk', `source=${join(host, 'hot')}`, 'path=/mnt/kept', 'readonly=true');
    await lxc('config', 'device', 'add', 'dev1', 'kmsg2', 'unix-char', 'path=/dev/berth-kmsg2', 'major=1', 'minor=11');
    const before = await initPid('dev1');
    // The exec ends with the init it runs under: its operation is not waited for.
    assert.equal((await d.api().post('/1.0/instances/dev1/exec').send({ command: ['systemctl', 'reboot'] })).status, 202);
    let after = before;
    for (let i = 0; i < 600 && (after === before || after === 0); i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = await initPid('dev1').catch(() => 0);
    }
    assert.notEqual(after, before);
    // The new systemd may not listen yet: asked again until it answers (a degraded boot fails here).
    await sh('dev1', 'for i in $(seq 300); do systemctl is-system-running --wait >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1');
    assert.deepEqual(await sh('dev1', 'cat /mnt/kept/file /srv/data/hello && stat -c "%t:%T" /dev/berth-kmsg2 /dev/berth-fuse && touch /mnt/kept/x'), {
      code: 1,
      stdout: 'hot-plugged\nhello from the host\n1:b\na:e5\n',
      stderr: "touch: cannot touch '/mnt/kept/x': Read-only file system\n",
    });
    const cgroup = devicesCgroup(after);
    if (cgroup) assert.ok(readFileSync(join(cgroup, 'devices.list'), 'utf8').split('\n').includes('c 1:11 rwm'));
  });

  it('a start with a missing required source fails naming the device and leaves no monitor, cgroup or mount', async () => {
    await finish(await create('dev2', { gone: { type: 'disk', source: join(host, 'missing'), path: '/srv/missing' } }));
    await assert.rejects(lxc('start', 'dev2'), (e: { stderr: string }) => {
      assert.match(e.stderr, /open_tree\(2\) failed: ENOENT \(device gone: source \/.*\/missing\)/);
      return true;
    });
    assert.equal((await d.api().get('/1.0/instances/dev2').expect(200)).body.metadata.status, 'Stopped');
    assert.equal(existsSync(join(d.dir, 'containers', 'dev2')), false);
    assert.deepEqual(cgroupsOf('dev2'), []);
  });

  it('at start, a planted symlink to a host path that is not in the root fails the start: nothing is mounted on the host path', async () => {
    const victim = join(host, 'victim');
    // Planted in the stopped container's root (as a guest could have left it): it names the host's victim directory.
    await symlink(victim, join(d.dir, 'storage', 'default', 'containers', 'dev2', 'rootfs', 'srv', 'escape'));
    await lxc('config', 'device', 'remove', 'dev2', 'gone');
    await lxc('config', 'device', 'add', 'dev2', 'payload', 'disk', `source=${join(host, 'payload')}`, 'path=/srv/escape');
    await assert.rejects(lxc('start', 'dev2'), (e: { stderr: string }) => {
      assert.match(e.stderr, /openat2\(2\) failed: ENOENT \(device payload: \/srv\/escape in the container\)/);
      return true;
    });
    assert.deepEqual(await readdir(victim), []);
    assert.equal(hostMountPoints().includes(victim), false);
    assert.equal(existsSync(join(d.dir, 'containers', 'dev2')), false);
    assert.deepEqual(cgroupsOf('dev2'), []);
  });

  it('leaves nothing on the host once the container stopped: no mounts under its root, no device nodes', async () => {
    await lxc('stop', 'dev1', '--force');
    const root = join(d.dir, 'storage', 'default', 'containers', 'dev1');
    assert.deepEqual(hostMountPoints().filter((m) => m.startsWith(`${root}/`) && m !== join(root, 'rootfs')), []);
    assert.equal(existsSync(join(d.dir, 'containers', 'dev1', 'devices')), false);
    assert.deepEqual(cgroupsOf('dev1'), []);
  });
});
