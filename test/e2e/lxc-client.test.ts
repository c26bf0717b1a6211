import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcEnv, lxcRunner } from '../support/lxc.js';

/** LXD's own client (Debian's lxd-client, LXD 5.0.2), pointed at berthd with LXD_DIR. */
describe("LXD's lxc client against berthd", () => {
  let d: Daemon;
  const lxc = lxcRunner(() => d);

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
  });
  after(async () => {
    await d.destroy();
  });

  it('lxc info', async () => {
    const { stdout } = await lxc('info');
    assert.match(stdout, /^api_version: "1\.0"$/m);
    assert.match(stdout, /^ {2}server: berth$/m);
  });

  it('lxc profile create, set, show, edit from stdin, copy, rename, delete', async () => {
    await lxc('profile', 'create', 'web');
    await lxc('profile', 'set', 'web', 'limits.memory', '1GiB');
    let { stdout } = await lxc('profile', 'show', 'web');
    assert.match(stdout, /^ {2}limits\.memory: 1GiB$/m);
    const edit = spawn('lxc', ['profile', 'edit', 'web'], { env: lxcEnv(d) });
    edit.stdin.end('description: from stdin\nconfig:\n  user.team: ops\ndevices: {}\n');
    assert.equal(await new Promise((r) => edit.on('exit', r)), 0);
    const res = await d.api().get('/1.0/profiles/web').expect(200);
    assert.deepEqual(res.body.metadata.config, { 'user.team': 'ops' });
    assert.equal(res.body.metadata.description, 'from stdin');
    await lxc('profile', 'copy', 'web', 'web2');
    await lxc('profile', 'rename', 'web2', 'web3');
    ({ stdout } = await lxc('profile', 'list', '--format', 'csv'));
    assert.deepEqual(stdout.trim().split('\n').map((l) => l.split(',')[0]), ['default', 'web', 'web3']);
    await lxc('profile', 'delete', 'web3');
    await d.api().get('/1.0/profiles/web3').expect(404);
  });

  it('lxc reports the server error and changes nothing', async () => {
    const before = (await d.api().get('/1.0/profiles/web').expect(200)).body.metadata;
    await assert.rejects(lxc('profile', 'set', 'web', 'bogus.key', '1'), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /Invalid config\["bogus\.key"\]: unknown configuration key/);
      return true;
    });
    assert.deepEqual((await d.api().get('/1.0/profiles/web').expect(200)).body.metadata, before);
  });

  it('lxc list (server-side filtering), lxc config set/show, lxc delete', async () => {
    for (const body of [{ name: 'c1' }, { name: 'c2', config: { 'user.team': 'ops' } }]) {
      const res = await d.api().post('/1.0/instances').send(body).expect(202);
      await d.api().get(`${res.body.operation}/wait`).expect(200);
    }
    let { stdout } = await lxc('list', '--format', 'csv');
    assert.equal(stdout, 'c1,STOPPED,,,CONTAINER,0\nc2,STOPPED,,,CONTAINER,0\n');
    ({ stdout } = await lxc('list', 'user.team=ops', '--format', 'csv'));
    assert.equal(stdout, 'c2,STOPPED,,,CONTAINER,0\n');
    await lxc('config', 'set', 'c1', 'limits.memory', '512MiB');
    ({ stdout } = await lxc('config', 'show', 'c1'));
    assert.match(stdout, /^ {2}limits\.memory: 512MiB$/m);
    await assert.rejects(lxc('config', 'set', 'c1', 'limits.memory', '0%'), (e: { stderr: string }) => /a percentage must be from 1% to 100%, not 0%/.test(e.stderr));
    await lxc('delete', 'c2');
    ({ stdout } = await lxc('list', '--format', 'csv'));
    assert.equal(stdout, 'c1,STOPPED,,,CONTAINER,0\n');
  });

  it('lxc image import, lxc launch, stop, start and delete --force with a real container', async () => {
    const { stdout: imported } = await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    assert.match(imported, /Image imported with fingerprint: [0-9a-f]{64}/);
    await lxc('launch', 'debian/12', 'l1');
    let { stdout } = await lxc('list', 'l1', '--format', 'csv');
    assert.equal(stdout, 'l1,RUNNING,,,CONTAINER,0\n');
    const pid = (await d.api().get('/1.0/instances/l1/state').expect(200)).body.metadata.pid;
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'systemd');
    await lxc('stop', 'l1');
    ({ stdout } = await lxc('list', 'l1', '--format', 'csv'));
    assert.equal(stdout, 'l1,STOPPED,,,CONTAINER,0\n');
    await lxc('start', 'l1');
    await lxc('delete', '--force', 'l1');
    await d.api().get('/1.0/instances/l1').expect(404);
  });

  it('lxc operation list and lxc monitor', async () => {
    const { stdout } = await lxc('operation', 'list', '--format', 'csv');
    assert.equal(typeof stdout, 'string');
    const monitor = spawn('lxc', ['monitor', '--type', 'lifecycle', '--format', 'json'], { env: lxcEnv(d) });
    let out = '';
    monitor.stdout.on('data', (c) => (out += c));
    await new Promise((r) => setTimeout(r, 500));
    await d.api().post('/1.0/profiles').send({ name: 'watched' }).expect(200);
    for (let i = 0; i < 100 && !out.includes('profile-created'); i++) await new Promise((r) => setTimeout(r, 100));
    monitor.kill();
    assert.match(out, /"action":\s*"profile-created"/);
    assert.match(out, /"source":\s*"\/1\.0\/profiles\/watched"/);
  });

  it('repeated and parallel launches, stops and starts never print a websocket error, nor does a start that a SIGTERM overtakes', async () => {
    const names = ['w0', 'w1', 'w2', 'w3'];
    const stderrs: string[] = [];
    const all = (...args: string[]) => Promise.all(names.map(async (n) => stderrs.push((await lxc(...args.map((a) => a.replace('NAME', n)))).stderr)));
    await all('launch', 'debian/12', 'NAME');
    for (let round = 0; round < 2; round++) {
      await all('stop', 'NAME');
      await all('start', 'NAME');
    }
    for (const n of names) stderrs.push((await lxc('restart', n)).stderr);
    // The daemon stops while `lxc start` waits on /1.0/events: the start ends first, then the socket.
    await lxc('stop', 'w0');
    const start = spawn('lxc', ['start', 'w0'], { env: lxcEnv(d) });
    let stderr = '';
    start.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise((r) => start.on('exit', r));
    for (let i = 0; i < 100 && (await d.api().get('/1.0/instances/w0').expect(200)).body.metadata.status !== 'Starting'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await d.stop(), 0);
    assert.equal(await exited, 0, stderr);
    stderrs.push(stderr);
    d = await d.restart();
    for (const e of stderrs) assert.doesNotMatch(e, /websocket|1006|1001/i);
    assert.match((await lxc('list', 'w0', '--format', 'csv')).stdout, /^w0,RUNNING,/);
    await Promise.all(names.map((n) => lxc('delete', '--force', n)));
  });
});
