import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';

describe('server config, resources and memory admission', () => {
  let d: Daemon;
  let hostMemory: number;
  const create = async (body: object) => {
    const res = await d.api().post('/1.0/instances').send(body);
    if (res.status === 202) await d.api().get(`${res.body.operation}/wait`).expect(200);
    return res;
  };

  before(async () => {
    d = await startDaemon();
    hostMemory = (await d.api().get('/1.0/resources').expect(200)).body.metadata.memory.total;
  });
  after(async () => {
    await d.destroy();
  });

  it('reports host capacity and what instances are promised', async () => {
    await create({ name: 'r1', config: { 'limits.memory': '1GiB', 'limits.cpu': '1', 'limits.cpu.allowance': '50ms/100ms' } });
    await create({ name: 'r2', config: { 'limits.memory': '512MiB', 'limits.processes': '100' } });
    await create({ name: 'r3', profiles: [] }); // without the default profile's limits
    const res = await d.api().get('/1.0/resources').expect(200);
    const r = res.body.metadata;
    assert.ok(r.cpu.total >= 1);
    assert.ok(r.memory.total > r.memory.used && r.memory.used > 0);
    assert.deepEqual(r.committed, { instances: 3, memory_bytes: 1536 * 1024 * 1024, unlimited_memory_instances: 1, cpus: 1, cpu_quota: 0.5, processes: 2100 });
    assert.deepEqual(r.admission, { memory_overcommit: 1, memory_allowed: r.memory.total }, 'admission at the default ratio when the key is unset');
  });

  it('keeps server config, validated, and shows it in GET /1.0', async () => {
    await d.api().patch('/1.0').send({ config: { 'limits.memory.overcommit': '1.0', 'user.site': 'lab' } }).expect(200);
    let info = await d.api().get('/1.0').expect(200);
    assert.deepEqual(info.body.metadata.config, { 'limits.memory.overcommit': '1.0', 'user.site': 'lab' });
    const before = await queryEmbedded(d.dir, 'SELECT * FROM server_config ORDER BY key');
    for (const [config, message] of [
      [{ 'core.https_address': ':8443' }, /^Invalid config\["core.https_address"\]: unknown server configuration key$/],
      [{ 'limits.memory.overcommit': '-1' }, /^Invalid config\["limits.memory.overcommit"\]: must be a positive ratio/],
    ] as const) {
      const res = await d.api().patch('/1.0').send({ config });
      assert.equal(res.status, 400);
      assert.match(res.body.error, message);
    }
    assert.deepEqual(await queryEmbedded(d.dir, 'SELECT * FROM server_config ORDER BY key'), before);
    await d.api().patch('/1.0').send({ config: { 'user.site': '' } }).expect(200);
    info = await d.api().get('/1.0').expect(200);
    assert.deepEqual(info.body.metadata.config, { 'limits.memory.overcommit': '1.0' });
  });

  it('refuses a create or a change that would commit more memory than allowed, changing nothing', async () => {
    const rows = () => queryEmbedded(d.dir, 'SELECT name, config FROM instances ORDER BY name');
    const before = await rows();
    const tooMuch = `${Math.ceil(hostMemory / 1024 ** 2)}MiB`;
    const res = await create({ name: 'big', config: { 'limits.memory': tooMuch } });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /^Not enough memory to admit "big": 1\.50GiB committed \+ [\d.]+GiB requested = [\d.]+GiB, over the [\d.]+GiB allowed \(limits\.memory\.overcommit=1 × [\d.]+GiB host memory\)$/);
    assert.deepEqual(await rows(), before);
    const change = await d.api().patch('/1.0/instances/r3').send({ config: { 'limits.memory': tooMuch } });
    assert.equal(change.status, 400);
    assert.match(change.body.error, /^Not enough memory to admit "r3"/);
    assert.deepEqual(await rows(), before);
    const fits = await create({ name: 'small', config: { 'limits.memory': '256MiB' } });
    assert.equal(fits.status, 202);
    const r = (await d.api().get('/1.0/resources').expect(200)).body.metadata;
    assert.equal(r.committed.memory_bytes, 1792 * 1024 * 1024);
    assert.equal(r.admission.memory_overcommit, 1);
  });
});
