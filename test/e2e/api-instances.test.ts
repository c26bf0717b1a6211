import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { daemonApi, ownConfig } from '../support/api.js';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';

function assertError(res: { status: number; body: Record<string, unknown> }, status: number, message: RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.type, 'error');
  assert.equal(res.body.error_code, status);
  assert.match(String(res.body.error), message);
}

describe('instances API (records, profiles, expansion)', () => {
  let d: Daemon;
  const state = async () => [
    ...(await queryEmbedded(d.dir, 'SELECT name, description, config, devices, status, updated_at FROM instances ORDER BY name')),
    ...(await queryEmbedded(d.dir, 'SELECT * FROM instance_profiles ORDER BY instance_id, position')),
    ...(await queryEmbedded(d.dir, 'SELECT * FROM quotas WHERE instance_id IS NOT NULL ORDER BY id')),
  ];
  const create = (body: object) => d.api().post('/1.0/instances').send(body);
  const { finish } = daemonApi(() => d, { timeoutSeconds: 30 });

  before(async () => {
    d = await startDaemon();
    await d.api().post('/1.0/profiles').send({ name: 'lamp', config: { 'limits.memory': '1GiB', 'user.role': 'web' }, devices: { data: { type: 'disk', path: '/srv', source: '/srv/lamp' } } }).expect(200);
    await d.api().patch('/1.0/profiles/default').send({ devices: { root: { type: 'disk', path: '/', pool: 'default' } } }).expect(200);
  });
  after(async () => {
    await d.destroy();
  });

  it('creates an instance as an operation, with profiles applied in order and local keys last', async () => {
    await finish(await create({ name: 'c1', source: { type: 'none' }, profiles: ['default', 'lamp'], config: { 'user.role': 'db', 'limits.processes': '200' } }));
    const res = await d.api().get('/1.0/instances/c1').expect(200);
    const i = res.body.metadata;
    assert.equal(i.status, 'Stopped');
    assert.equal(i.status_code, 102);
    assert.equal(i.type, 'container');
    assert.deepEqual(i.profiles, ['default', 'lamp']);
    assert.deepEqual(ownConfig(i.config), { 'user.role': 'db', 'limits.processes': '200' });
    assert.deepEqual(ownConfig(i.expanded_config), { 'limits.memory': '1GiB', 'user.role': 'db', 'limits.processes': '200' });
    assert.match(i.config['volatile.cloud-init.instance-id'], /^[0-9a-f-]{36}$/, 'a create gives cloud-init its instance-id, as LXD');
    assert.deepEqual(Object.keys(i.expanded_devices).sort(), ['data', 'root']);
    assert.match(res.headers.etag, /^"[0-9a-f]{64}"$/);
    const [quota] = await queryEmbedded(d.dir, "SELECT q.processes, q.memory_bytes FROM quotas q JOIN instances i ON i.id = q.instance_id WHERE i.name = 'c1'");
    assert.deepEqual(quota, { processes: 200, memory_bytes: null });
    const legacy = await d.api().get('/1.0/containers/c1').expect(200);
    assert.equal(legacy.body.metadata.name, 'c1');
    const list = await d.api().get('/1.0/instances').expect(200);
    assert.deepEqual(list.body.metadata, ['/1.0/instances/c1']);
    const full = await d.api().get('/1.0/instances?recursion=1').expect(200);
    assert.equal(full.body.metadata[0].expanded_config['limits.memory'], '1GiB');
  });

  it('shows the instance in its profiles used_by, and refuses to delete a used profile', async () => {
    const p = await d.api().get('/1.0/profiles/lamp').expect(200);
    assert.deepEqual(p.body.metadata.used_by, ['/1.0/instances/c1']);
    const before = await queryEmbedded(d.dir, 'SELECT * FROM profiles ORDER BY id');
    const res = await d.api().delete('/1.0/profiles/lamp');
    assertError(res, 400, /^Profile "lamp" is currently in use by: \/1\.0\/instances\/c1$/);
    assert.deepEqual(res.body.metadata, { used_by: ['/1.0/instances/c1'] });
    assert.deepEqual(await queryEmbedded(d.dir, 'SELECT * FROM profiles ORDER BY id'), before);
  });

  it('follows a renamed profile', async () => {
    await d.api().post('/1.0/profiles/lamp').send({ name: 'lamp2' }).expect(200);
    const res = await d.api().get('/1.0/instances/c1').expect(200);
    assert.deepEqual(res.body.metadata.profiles, ['default', 'lamp2']);
    await d.api().post('/1.0/profiles/lamp2').send({ name: 'lamp' }).expect(200);
  });

  it('PATCH merges, PUT replaces (with If-Match), rename and delete answer as operations', async () => {
    await d.api().patch('/1.0/instances/c1').send({ config: { 'limits.cpu': '1' } }).expect(200);
    const got = await d.api().get('/1.0/instances/c1').expect(200);
    assert.equal(got.body.metadata.config['limits.cpu'], '1');
    const stale = got.headers.etag;
    await finish(await d.api().put('/1.0/instances/c1').set('If-Match', stale).send({ config: { 'user.x': '1' }, profiles: ['default'], devices: {} }));
    assertError(await d.api().put('/1.0/instances/c1').set('If-Match', stale).send({ config: {} }), 412, /changed since it was read/);
    const now = await d.api().get('/1.0/instances/c1').expect(200);
    assert.deepEqual(ownConfig(now.body.metadata.config), { 'user.x': '1' });
    assert.deepEqual(now.body.metadata.profiles, ['default']);
    await finish(await d.api().post('/1.0/instances/c1').send({ name: 'c2' }));
    await d.api().get('/1.0/instances/c1').expect(404);
    await finish(await d.api().delete('/1.0/instances/c2'));
    assert.deepEqual(await state(), []);
  });

  it('lists with recursion=2 (state included) and server-side filters', async () => {
    await finish(await create({ name: 'f1', config: { 'user.team': 'ops' } }));
    await finish(await create({ name: 'f2', config: { 'user.team': 'data' } }));
    const full = await d.api().get('/1.0/instances?recursion=2').expect(200);
    assert.deepEqual(full.body.metadata.map((i: { name: string; state: { status: string; pid: number } }) => [i.name, i.state.status, i.state.pid]), [['f1', 'Stopped', 0], ['f2', 'Stopped', 0]]);
    const filtered = await d.api().get('/1.0/instances').query({ filter: 'config.user.team eq ops' }).expect(200);
    assert.deepEqual(filtered.body.metadata, ['/1.0/instances/f1']);
    const either = await d.api().get('/1.0/instances').query({ recursion: 1, filter: 'name eq f1 or name eq f2' }).expect(200);
    assert.equal(either.body.metadata.length, 2);
    assertError(await d.api().get('/1.0/instances').query({ filter: 'name like f1' }), 400, /^Invalid filter: unknown operator "like"/);
    const state = await d.api().get('/1.0/instances/f1/state').expect(200);
    assert.deepEqual(state.body.metadata.memory, { usage: 0, usage_peak: 0, swap_usage: 0, swap_usage_peak: 0 });
    assert.equal(state.body.metadata.status_code, 102);
    await finish(await d.api().delete('/1.0/instances/f1'));
    await finish(await d.api().delete('/1.0/instances/f2'));
  });

  it('ten concurrent creates of one name: exactly one wins, nine get 409', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => create({ name: 'race' })));
    assert.deepEqual(results.map((r) => r.status).sort(), [202, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) assertError(r, 409, /^Instance "race" already exists$/);
    const [{ n }] = await queryEmbedded(d.dir, "SELECT count(*)::int AS n FROM instances WHERE name = 'race'");
    assert.equal(n, 1);
    await finish(results.find((r) => r.status === 202)!); // the winner's volume is still being made: deleting now would be "busy"
    await finish(await d.api().delete('/1.0/instances/race'));
  });

  describe('bad input: 400 naming the field, nothing recorded', () => {
    const cases: Array<[string, object, RegExp]> = [
      ['an invalid name', { name: 'web_1' }, /^Invalid name: may only contain letters, digits and "-"$/],
      ['an all-digit name', { name: '42' }, /^Invalid name: must not be only digits$/],
      ['an unknown profile', { name: 'x1', profiles: ['default', 'nope'] }, /^Invalid profiles\[1\]: profile "nope" does not exist$/],
      ['a profile listed twice', { name: 'x1', profiles: ['default', 'default'] }, /^Invalid profiles: "default" is listed twice$/],
      ['an unknown config key', { name: 'x1', config: { 'boot.autostrat': 'true' } }, /^Invalid config\["boot.autostrat"\]: unknown configuration key$/],
      ['a bad limit', { name: 'x1', config: { 'limits.memory': '10XB' } }, /^Invalid config\["limits.memory"\]: unknown unit "XB"/],
      ['two root disks', { name: 'x1', devices: { root2: { type: 'disk', path: '/', pool: 'other' } } }, /^Invalid devices: more than one root disk \(root, root2\)$/],
      ['a disk with a relative source', { name: 'x1', devices: { d: { type: 'disk', path: '/data', source: 'srv/data' } } }, /^Invalid devices\["d"\]\["source"\]: must be an absolute host path, not "srv\/data"$/],
      ['two disks on one path', { name: 'x1', devices: { d: { type: 'disk', path: '/srv', source: '/a' } }, profiles: ['default', 'lamp'] }, /^Invalid devices\["d"\]\["path"\]: "\/srv" is already used by device "data"$/],
      ['two nics with one name', { name: 'x1', devices: { a: { type: 'nic', network: 'n', name: 'eth0' }, b: { type: 'nic', network: 'n', name: 'eth0' } } }, /^Invalid devices\["b"\]\["name"\]: interface "eth0" is already used by device "a"$/],
      ['an unsupported source', { name: 'x1', source: { type: 'copy', source: 'c1' } }, /^Invalid source.type: "copy" is not supported/],
      ['ephemeral of the wrong type', { name: 'x1', ephemeral: 'yes' }, /^Invalid ephemeral: must be true or false$/],
      ['an unknown field', { name: 'x1', colour: 'red' }, /^Invalid colour: unknown field$/],
    ];
    for (const [what, payload, message] of cases) {
      it(`refuses ${what}`, async () => {
        const before = await state();
        const ops = await d.api().get('/1.0/operations?recursion=1').expect(200);
        assertError(await create(payload), 400, message);
        assert.deepEqual(await state(), before);
        assert.deepEqual((await d.api().get('/1.0/operations?recursion=1').expect(200)).body.metadata, ops.body.metadata);
      });
    }

    it('refuses bad updates without changing anything', async () => {
      await finish(await create({ name: 'keep' }));
      const before = await state();
      assertError(await d.api().patch('/1.0/instances/keep').send({ profiles: ['missing'] }), 400, /^Invalid profiles\[0\]: profile "missing" does not exist$/);
      assertError(await d.api().patch('/1.0/instances/keep').send({ config: { 'limits.cpu': '0' } }), 400, /^Invalid config\["limits.cpu"\]: must be at least 1 CPU$/);
      assertError(await d.api().post('/1.0/instances/keep').send({ name: 'bad name' }), 400, /^Invalid name: must not contain spaces$/);
      assertError(await d.api().get('/1.0/instances/nope'), 404, /^Instance not found: "nope"$/);
      assert.deepEqual(await state(), before);
      await finish(await d.api().delete('/1.0/instances/keep'));
    });
  });
});
