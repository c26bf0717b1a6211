import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

/** `lxc info <name>` of LXD 5.0.2's client against berthd: instance, state, snapshots and backups. */
describe('lxc info <name> against berthd', () => {
  let d: Daemon;
  const lxc = lxcRunner(() => d);

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
  });
  after(async () => {
    await d.destroy();
  });

  it('lists container_backup and answers an empty backup list for an existing instance, 404 otherwise', async () => {
    const server = await d.api().get('/1.0').expect(200);
    assert.ok(server.body.metadata.api_extensions.includes('container_backup'));
    const res = await d.api().post('/1.0/instances').send({ name: 'b1' }).expect(202);
    await d.api().get(`${res.body.operation}/wait`).expect(200);
    for (const url of ['/1.0/instances/b1/backups', '/1.0/instances/b1/backups?recursion=1', '/1.0/containers/b1/backups']) {
      const list = await d.api().get(url).expect(200);
      assert.equal(list.body.type, 'sync');
      assert.deepEqual(list.body.metadata, []);
    }
    const missing = await d.api().get('/1.0/instances/nope/backups').expect(404);
    assert.equal(missing.body.type, 'error');
    assert.equal(missing.body.error_code, 404);
  });

  it('lxc info of a stopped instance', async () => {
    const { stdout } = await lxc('info', 'b1');
    assert.match(stdout, /^Name: b1$/m);
    assert.match(stdout, /^Status: STOPPED$/m);
    assert.match(stdout, /^Type: container$/m);
    assert.doesNotMatch(stdout, /^PID:/m);
  });

  it('lxc info of a running instance shows its init, processes and memory', async () => {
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    await lxc('launch', 'debian/12', 'r1');
    await daemonApi(() => d).booted('r1'); // lxc launch returns once init runs; its services come with the boot
    const { stdout } = await lxc('info', 'r1');
    assert.match(stdout, /^Name: r1$/m);
    assert.match(stdout, /^Status: RUNNING$/m);
    const pid = Number(stdout.match(/^PID: (\d+)$/m)?.[1]);
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'systemd');
    assert.equal(pid, (await d.api().get('/1.0/instances/r1/state').expect(200)).body.metadata.pid);
    const processes = Number(stdout.match(/^ {2}Processes: (\d+)$/m)?.[1]);
    assert.ok(processes > 1, `processes: ${processes}`);
    assert.match(stdout, /^ {4}Memory \(current\): [\d.]+[KMG]iB$/m);
    assert.doesNotMatch(stdout, /^Backups:/m);
    assert.doesNotMatch(stdout, /^Snapshots:/m);
    await lxc('delete', '--force', 'r1');
  });

  it('lxc info of an unknown instance fails with the server error', async () => {
    await assert.rejects(lxc('info', 'nope'), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /Instance not found: "nope"/);
      return true;
    });
  });
});
