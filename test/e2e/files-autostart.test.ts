import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Runtime } from '#runtime';
import { PoolLayout } from '../../libs/storage/src/domain/pool-layout.js';
import { runBerth } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const exec = promisify(execFile);

/** The files API (lxc file and berth file), boot.autostart across a simulated host reboot, orphan volumes. */
describe('files API, boot.autostart and orphan volumes against berthd', () => {
  let d: Daemon;
  let local: string;
  const lxc = lxcRunner(() => d, 120_000);
  const berth = async (...args: string[]) => {
    const run = await runBerth(args, { env: { ...d.env }, timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    return run.stdout;
  };
  /** A file as the container's own `cat` sees it. */
  const inside = async (path: string) => (await lxc('exec', 'c1', '--', 'cat', path)).stdout;

  before(async () => {
    d = await startDaemon();
    local = await mkdtemp(join(os.tmpdir(), 'berth-files-e2e-'));
    await configureLxc(d);
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    await lxc('launch', 'debian/12', 'c1');
    await lxc('init', 'debian/12', 'c2');
  });
  after(async () => {
    await d.destroy();
    await rm(local, { recursive: true, force: true });
  });

  it('lxc file push and pull a file in a running container, with owner and mode', async () => {
    await writeFile(join(local, 'hello.txt'), 'hello from the host\n');
    await lxc('file', 'push', join(local, 'hello.txt'), 'c1/root/hello.txt', '--uid', '1000', '--gid', '1000', '--mode', '0640');
    assert.equal(await inside('/root/hello.txt'), 'hello from the host\n');
    assert.equal((await lxc('exec', 'c1', '--', 'stat', '-c', '%u %g %a', '/root/hello.txt')).stdout, '1000 1000 640\n');
    await lxc('file', 'pull', 'c1/root/hello.txt', join(local, 'pulled.txt'));
    assert.equal(await readFile(join(local, 'pulled.txt'), 'utf8'), 'hello from the host\n');
    const res = await d.api().get('/1.0/instances/c1/files?path=/root/hello.txt').buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(res.status, 200);
    assert.deepEqual([res.headers['x-lxd-uid'], res.headers['x-lxd-gid'], res.headers['x-lxd-mode'], res.headers['x-lxd-type']], ['1000', '1000', '0640', 'file']);
    const dir = await d.api().get('/1.0/instances/c1/files?path=/root').expect(200);
    assert.equal(dir.headers['x-lxd-type'], 'directory');
    assert.ok(dir.body.metadata.includes('hello.txt'));
    const missing = await d.api().get('/1.0/instances/c1/files?path=/nope').expect(404);
    assert.equal(missing.body.error, 'Not found: "/nope" in instance "c1"');
  });

  it("a symlink to /etc inside the container leads to the container's files, never the host's", async () => {
    await d.api().post('/1.0/instances/c1/files?path=/evil').set('Content-Type', 'application/octet-stream').set('X-LXD-type', 'symlink').send(Buffer.from('/etc')).expect(200);
    await lxc('file', 'pull', 'c1/evil/shadow', join(local, 'shadow'));
    const pulled = await readFile(join(local, 'shadow'), 'utf8');
    assert.equal(pulled, await inside('/etc/shadow'));
    assert.notEqual(pulled, readFileSync('/etc/shadow', 'utf8'));
    await writeFile(join(local, 'marker'), 'pushed through a symlink\n');
    await lxc('file', 'push', join(local, 'marker'), 'c1/evil/berth-e2e-marker');
    assert.equal(await inside('/etc/berth-e2e-marker'), 'pushed through a symlink\n');
    assert.equal(existsSync('/etc/berth-e2e-marker'), false);
    await lxc('file', 'pull', 'c1/../../../../etc/hostname', join(local, 'hostname'));
    assert.equal(await readFile(join(local, 'hostname'), 'utf8'), await inside('/etc/hostname'));
    await lxc('file', 'delete', 'c1/evil/berth-e2e-marker');
    await assert.rejects(inside('/etc/berth-e2e-marker'));
  });

  it('berth file push -r -p and pull -r copy a tree; berth file delete removes a file', async () => {
    const tree = join(local, 'tree');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'a\n');
    await writeFile(join(tree, 'sub', 'b.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
    await berth('file', 'push', '-r', '-p', tree, 'c1/opt/deep/');
    assert.equal(await inside('/opt/deep/tree/a.txt'), 'a\n');
    await berth('file', 'pull', '-r', 'c1/opt/deep/tree', join(local, 'back'));
    assert.equal(await readFile(join(local, 'back', 'a.txt'), 'utf8'), 'a\n');
    assert.deepEqual(await readFile(join(local, 'back', 'sub', 'b.bin')), Buffer.alloc(3 * 1024 * 1024, 7));
    await berth('file', 'delete', 'c1/opt/deep/tree/a.txt');
    const gone = await runBerth(['file', 'pull', 'c1/opt/deep/tree/a.txt', join(local, 'x')], { env: { ...d.env } });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Not found: "\/opt\/deep\/tree\/a\.txt" in instance "c1"/);
  });

  it('files of a stopped instance', async () => {
    await writeFile(join(local, 'stopped.txt'), 'while stopped\n');
    await berth('file', 'push', join(local, 'stopped.txt'), 'c2/root/stopped.txt');
    await berth('file', 'pull', 'c2/root/stopped.txt', join(local, 'stopped-back.txt'));
    assert.equal(await readFile(join(local, 'stopped-back.txt'), 'utf8'), 'while stopped\n');
  });

  it('boot.autostart restarts c1 after a simulated host reboot; stopped c2 stays stopped; an orphan volume is reported, not deleted', async () => {
    await d.api().patch('/1.0/instances/c1').send({ config: { 'boot.autostart': 'true', 'boot.autostart.priority': '10' } }).expect(200);
    const bad = await d.api().patch('/1.0/instances/c1').send({ config: { 'boot.autostart.priority': 'high' } }).expect(400);
    assert.equal(bad.body.error, 'Invalid config["boot.autostart.priority"]: must be an integer');
    assert.equal(await d.stop(), 0);
    // The host went down: the container dies with it, berthd does not see it go.
    await new Runtime({ berthDir: d.dir }).stop('c1', { force: true });
    const orphan = new PoolLayout(d.dir, 'default').instanceVolume('lost');
    await mkdir(join(orphan, 'rootfs'), { recursive: true });
    await writeFile(join(orphan, 'rootfs', 'precious'), 'keep me\n');
    d = await d.restart();
    let status = '';
    for (let i = 0; i < 240 && status !== 'Running'; i++) {
      status = (await d.api().get('/1.0/instances/c1/state').expect(200)).body.metadata.status;
      if (status !== 'Running') await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 'Running');
    assert.equal((await lxc('exec', 'c1', '--', 'systemctl', 'is-system-running', '--wait')).stdout.trim(), 'running');
    assert.equal((await d.api().get('/1.0/instances/c2/state').expect(200)).body.metadata.status, 'Stopped');

    const volumes = (await d.api().get('/1.0/storage-pools/default/volumes?recursion=1').expect(200)).body.metadata as Array<{ name: string; type: string; used_by: string[] }>;
    const byName = Object.fromEntries(volumes.filter((v) => v.type === 'container').map((v) => [v.name, v.used_by]));
    assert.deepEqual(byName, { c1: ['/1.0/instances/c1'], c2: ['/1.0/instances/c2'], lost: [] });
    const orphans = (await d.api().get('/1.0/storage-pools/default/volumes?filter=orphan').expect(200)).body.metadata;
    assert.deepEqual(orphans, ['/1.0/storage-pools/default/volumes/container/lost']);
    assert.match(await readFile(d.logFile, 'utf8'), /"volume":"container\/lost".*storage volume has no instance/);
    assert.equal(await readFile(join(orphan, 'rootfs', 'precious'), 'utf8'), 'keep me\n');
    assert.ok((await stat(orphan)).isDirectory());
    await rm(orphan, { recursive: true });
    assert.deepEqual((await readdir(new PoolLayout(d.dir, 'default').containersDir)).sort(), ['c1', 'c2']);
  });
});
