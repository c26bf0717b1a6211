// Fault injection: berthd (and, for a launch, its Postgres; for a running container, its monitor) is killed with SIGKILL while an
// operation on an instance is held at a named step (BERTH_TEST_HOOKS), then restarted. Each case
// asserts that the instance's status follows its container, that the operation ended as failed
// with the reason, and that the host holds exactly what it held before the operation (nothing of
// a half-done step is left), or, for a container that booted, what a normal start gives.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '#runtime';
import { daemonApi, type Started } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { clearHolds, eventually, holdAt, hostResources, reached, settledDiff, type HostResources } from '../support/faults.js';

describe('fault injection: berthd killed in the middle of instance operations', () => {
  let d: Daemon;
  const net = `bft${process.pid % 100000}`;
  const { finish, removeInstances } = daemonApi(() => d);
  const scope = { instances: ['f1', 'f2', 'f3'], bridges: [net] };

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
    await d.api().post('/1.0/networks').send({ name: net, config: { 'ipv4.address': 'auto' } }).expect(200);
    await d.api().post('/1.0/profiles').send({ name: 'lan', devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } }).expect(200);
  });
  after(async () => {
    await clearHolds(d);
    await removeInstances('f1', 'f2', 'f3');
    await d.api().delete('/1.0/profiles/lan');
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  /** Starts `request` held at `step`, kills berthd there, and restarts it: answers the operation's URL. */
  async function killAt(step: string, request: () => Promise<Started>): Promise<string> {
    await holdAt(d, step);
    const res = await request();
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await reached(d, step);
    await d.kill('SIGKILL');
    await clearHolds(d);
    d = await d.restart();
    return res.body.operation!;
  }

  async function assertInterrupted(operation: string): Promise<void> {
    const op = (await d.api().get(operation).expect(200)).body.metadata;
    assert.equal(op.status, 'Failure');
    assert.match(op.err, /^Interrupted: the daemon stopped before the operation finished/);
  }

  const warnings = () =>
    readFileSync(d.logFile, 'utf8')
      .split('\n')
      .filter((l) => /"level":[456]0/.test(l))
      .join('\n')
      .slice(-4000);

  /** Waits until instance `name` is `wanted`; the daemon's last log lines in the failure. */
  async function until(name: string, wanted: string, timeoutMs = 30_000): Promise<void> {
    await eventually(`${name} to be ${wanted}`, async () => ((await status(name)) === wanted ? true : undefined), timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; daemon's warnings: ${warnings()}`);
    });
  }

  const status = async (name: string) => (await d.api().get(`/1.0/instances/${name}`)).body.metadata?.status as string | undefined;

  /** The host as it is, waiting a little for what settles by itself (a veth whose namespace is going). */
  async function assertHostAsBefore(before: HostResources, what: string): Promise<void> {
    assert.deepEqual(await settledDiff(d, before, scope), {}, `${what}: the host holds what it held before`);
  }

  const create = (name: string) => () => d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias: 'debian/12' }, profiles: ['default', 'lan'] });
  const state = (name: string, action: string) => () => d.api().put(`/1.0/instances/${name}/state`).send({ action, timeout: 30 });

  it('create, killed once the volume is made: the half-created instance is gone, the same create then succeeds', async () => {
    const before = await hostResources(d, scope);
    const op = await killAt('instance-create.volume-made', create('f1'));
    await assertInterrupted(op);
    await d.api().get('/1.0/instances/f1').expect(404);
    await assertHostAsBefore(before, 'after an interrupted create');
    await finish(await create('f1')());
    assert.equal(await status('f1'), 'Stopped');
  });

  it('start, killed before the runtime: the instance is Stopped again and nothing of the start is left', async () => {
    const before = await hostResources(d, scope);
    const op = await killAt('instance-start.recorded', state('f1', 'start'));
    await assertInterrupted(op);
    await until('f1', 'Stopped', 30_000);
    await assertHostAsBefore(before, 'after a start interrupted before the runtime');
    // One whole start and stop: what a stopped instance that has run keeps (its console log) is the baseline below.
    await finish(await state('f1', 'start')());
    await finish(await state('f1', 'stop')());
  });

  for (const step of ['instance-start.runtime-started', 'instance-start.nics-plugged', 'instance-start.limits-applied']) {
    it(`start, killed at ${step}: the instance follows its running container (Running, with its nic), and stops cleanly`, async () => {
      const before = await hostResources(d, scope);
      const op = await killAt(step, state('f1', 'start'));
      await assertInterrupted(op);
      await until('f1', 'Running', 60_000);
      const s = (await d.api().get('/1.0/instances/f1/state').expect(200)).body.metadata;
      assert.ok(s.pid > 1, 'the state names init');
      const hostName = (await d.api().get('/1.0/instances/f1').expect(200)).body.metadata.config['volatile.eth0.host_name'];
      assert.ok(hostName, 'the nic is plugged and its host end recorded');
      assert.ok((await hostResources(d, scope)).links.includes(hostName), `${hostName} exists on the host`);
      await finish(await state('f1', 'stop')());
      assert.equal(await status('f1'), 'Stopped');
      await assertHostAsBefore(before, `after a start killed at ${step}, then a stop`);
    });
  }

  it('stop, killed before the runtime stops the container: the instance is Running again; a second stop works', async () => {
    await finish(await state('f1', 'start')());
    const op = await killAt('instance-stop.recorded', state('f1', 'stop'));
    await assertInterrupted(op);
    await until('f1', 'Running', 30_000);
    await finish(await state('f1', 'stop')());
  });

  it('stop, killed once the container is gone: the instance is Stopped and its nic and proxies are gone', async () => {
    const before = await hostResources(d, scope);
    await finish(await state('f1', 'start')());
    const op = await killAt('instance-stop.runtime-stopped', state('f1', 'stop'));
    await assertInterrupted(op);
    await until('f1', 'Stopped', 30_000);
    await assertHostAsBefore(before, 'after a stop interrupted once the container was gone');
  });

  it("the container's monitor killed: it took the container with it; the instance is Stopped and nothing of it is left", async () => {
    const before = await hostResources(d, scope);
    await finish(await state('f1', 'start')());
    const { monitorPid } = await new Runtime({ berthDir: d.dir }).state('f1');
    assert.ok(monitorPid > 1);
    process.kill(monitorPid, 'SIGKILL');
    await until('f1', 'Stopped', 30_000);
    await assertHostAsBefore(before, 'after its monitor was killed');
    await finish(await state('f1', 'start')());
    await finish(await state('f1', 'stop')());
  });

  it('delete, killed once the volume is gone: the delete is finished at the next start, nothing left', async () => {
    const before = await hostResources(d, scope);
    await finish(await create('f2')());
    await holdAt(d, 'instance-delete.volume-deleted');
    const deleting = d.api().delete('/1.0/instances/f2').then((r) => r, () => undefined);
    await reached(d, 'instance-delete.volume-deleted');
    await d.kill('SIGKILL');
    await deleting;
    await clearHolds(d);
    d = await d.restart();
    await d.api().get('/1.0/instances/f2').expect(404);
    await assertHostAsBefore(before, 'after an interrupted delete');
  });

  it('launch, with its Postgres killed while the container boots: the start goes on once the database is back, and ends Ready', async () => {
    await finish(await create('f3')());
    await holdAt(d, 'instance-start.runtime-started');
    const res = await state('f3', 'start')();
    assert.equal(res.status, 202);
    await reached(d, 'instance-start.runtime-started');
    const postmaster = Number(readFileSync(join(d.dir, 'database', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    await clearHolds(d);
    const op = (await d.api().get(`${res.body.operation}/wait?timeout=120`).expect(200)).body.metadata;
    assert.equal(op.status, 'Success', op.err);
    assert.equal(await status('f3'), 'Running');
    // While it was away, a client was told to try again, in LXD's envelope, never the ORM's words.
    const ops = (await d.api().get('/1.0/operations?recursion=1').expect(200)).body.metadata;
    for (const o of [...(ops.success ?? []), ...(ops.failure ?? [])]) assert.doesNotMatch(o.err ?? '', /Query runner|QueryFailedError|TypeORM/);
    await finish(await state('f3', 'stop')());
  });
});
