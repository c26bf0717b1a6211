// Load: 32 parallel launches, then 32 parallel execs, then 32 parallel deletes on one daemon. No
// operation holds a database connection while it waits on a container, so all of them succeed;
// afterwards nothing of the 32 is left on the host.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { hostResources, settledDiff, type HostResources } from '../support/faults.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const COUNT = 32;
const names = Array.from({ length: COUNT }, (_, i) => `l${i}`);
/** The report's case: 24 parallel `lxc launch` through LXD's own client. */
const LXC_COUNT = 24;
const lxcNames = Array.from({ length: LXC_COUNT }, (_, i) => `x${i}`);

describe(`load: ${COUNT} parallel launches, execs and deletes on one daemon`, () => {
  let d: Daemon;
  let baseline: HostResources;
  const { wait, exec, removeInstances } = daemonApi(() => d, { timeoutSeconds: 600 });
  const scope = { instances: [...names, ...lxcNames] };
  const lxc = lxcRunner(() => d, 300_000);

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    await configureLxc(d);
    const op = await wait(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
    assert.equal(op.status, 'Success', op.err);
    baseline = await hostResources(d, scope);
  });
  after(async () => {
    await removeInstances(...names, ...lxcNames);
    await d.destroy();
  });

  /** Every outcome that is not a success, named: the assertion says which failed and why. */
  const failures = (outcomes: Array<{ name: string; error?: string }>) => outcomes.filter((o) => o.error !== undefined);

  it(`${COUNT} parallel launches (create, then start) all succeed and boot`, async () => {
    const outcomes = await Promise.all(
      names.map(async (name) => {
        // Each small enough for 32 to pass memory admission on a modest host (the default profile gives 1GiB).
        const created = await d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias: 'debian/12' }, config: { 'limits.memory': '256MiB' } });
        if (created.status !== 202) return { name, error: `create: ${created.status} ${created.body.error}` };
        const c = await wait(created);
        if (c.status !== 'Success') return { name, error: `create: ${c.err}` };
        const started = await d.api().put(`/1.0/instances/${name}/state`).send({ action: 'start' });
        if (started.status !== 202) return { name, error: `start: ${started.status} ${started.body.error}` };
        const s = await wait(started);
        return s.status === 'Success' ? { name } : { name, error: `start: ${s.err}` };
      }),
    );
    assert.deepEqual(failures(outcomes), []);
    const list = (await d.api().get('/1.0/instances?recursion=1').expect(200)).body.metadata as Array<{ name: string; status: string }>;
    assert.deepEqual(list.filter((i) => names.includes(i.name) && i.status !== 'Running'), [], 'every instance is Running');
  });

  it(`${COUNT} parallel execs all succeed, each in its own container`, async () => {
    const outcomes = await Promise.all(
      names.map(async (name) => {
        try {
          const r = await exec(name, ['hostname']);
          return r.code === 0 && r.stdout.trim() === name ? { name } : { name, error: `exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}` };
        } catch (err) {
          return { name, error: (err as Error).message };
        }
      }),
    );
    assert.deepEqual(failures(outcomes), []);
  });

  it(`${COUNT} parallel deletes (each after a forced stop) all succeed and leave nothing on the host`, async () => {
    const outcomes = await Promise.all(
      names.map(async (name) => {
        const stopped = await d.api().put(`/1.0/instances/${name}/state`).send({ action: 'stop', force: true });
        if (stopped.status !== 202) return { name, error: `stop: ${stopped.status} ${stopped.body.error}` };
        const s = await wait(stopped);
        if (s.status !== 'Success') return { name, error: `stop: ${s.err}` };
        const deleted = await d.api().delete(`/1.0/instances/${name}`);
        if (deleted.status === 202) {
          const op = await wait(deleted);
          return op.status === 'Success' ? { name } : { name, error: `delete: ${op.err}` };
        }
        return deleted.status === 200 ? { name } : { name, error: `delete: ${deleted.status} ${deleted.body.error}` };
      }),
    );
    assert.deepEqual(failures(outcomes), []);
    assert.deepEqual((await d.api().get('/1.0/instances').expect(200)).body.metadata, []);
    assert.deepEqual(await settledDiff(d, baseline, scope), {}, 'nothing of the instances is left on the host');
  });

  it(`${LXC_COUNT} parallel \`lxc launch\` (LXD's own client) all succeed, none reports a websocket error, and \`lxc delete --force\` leaves nothing`, async () => {
    const run = async (args: string[]) => {
      try {
        const { stdout, stderr } = await lxc(...args);
        return { ok: true, output: `${stdout}${stderr}` };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
        return { ok: false, output: `exit ${e.code}: ${e.stdout ?? ''}${e.stderr ?? e.message}` };
      }
    };
    const launched = await Promise.all(lxcNames.map(async (name) => ({ name, ...(await run(['launch', 'debian/12', name, '-c', 'limits.memory=256MiB'])) })));
    assert.deepEqual(launched.filter((l) => !l.ok || /websocket|1006|error/i.test(l.output)), [], 'every launch succeeded and said nothing of a websocket');
    const list = (await d.api().get('/1.0/instances?recursion=1').expect(200)).body.metadata as Array<{ name: string; status: string }>;
    assert.deepEqual(list.filter((i) => lxcNames.includes(i.name) && i.status !== 'Running'), [], 'every instance is Running');
    const deleted = await Promise.all(lxcNames.map(async (name) => ({ name, ...(await run(['delete', '--force', name])) })));
    assert.deepEqual(deleted.filter((r) => !r.ok), []);
    assert.deepEqual(await settledDiff(d, baseline, scope), {}, 'nothing of the instances is left on the host');
  });
});
