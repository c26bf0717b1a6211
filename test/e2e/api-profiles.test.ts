import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';

/** LXD's error envelope, exactly. */
function assertError(res: { status: number; body: Record<string, unknown> }, status: number, message: RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ['error', 'error_code', 'metadata', 'operation', 'status', 'status_code', 'type']);
  assert.equal(res.body.type, 'error');
  assert.equal(res.body.error_code, status);
  assert.match(String(res.body.error), message);
}

describe('profiles API', () => {
  let d: Daemon;
  const rows = async () => [
    ...(await queryEmbedded(d.dir, 'SELECT name, description, config, devices, updated_at FROM profiles ORDER BY name')),
    ...(await queryEmbedded(d.dir, 'SELECT * FROM quotas ORDER BY id')),
  ];

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.destroy();
  });

  it('has the default profile after first start', async () => {
    const res = await d.api().get('/1.0/profiles').expect(200);
    assert.deepEqual(res.body, {
      type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata: ['/1.0/profiles/default'],
    });
  });

  it('creates, reads, replaces, merges, renames and deletes a profile', async () => {
    await d.api().post('/1.0/profiles').send({ name: 'web', description: 'LAMP', config: { 'limits.cpu': '2', 'user.team': 'ops' }, devices: { data: { type: 'disk', path: '/srv', source: '/srv/web' } } }).expect(200);
    let res = await d.api().get('/1.0/profiles/web').expect(200);
    assert.deepEqual(res.body.metadata, { name: 'web', description: 'LAMP', config: { 'limits.cpu': '2', 'user.team': 'ops' }, devices: { data: { type: 'disk', path: '/srv', source: '/srv/web' } }, used_by: [] });
    assert.match(res.headers.etag, /^"[0-9a-f]{64}"$/);

    await d.api().patch('/1.0/profiles/web').send({ config: { 'limits.memory': '512MiB' } }).expect(200);
    res = await d.api().get('/1.0/profiles/web?recursion=1').expect(200);
    assert.deepEqual(res.body.metadata.config, { 'limits.cpu': '2', 'user.team': 'ops', 'limits.memory': '512MiB' });
    assert.equal(res.body.metadata.description, 'LAMP');

    await d.api().put('/1.0/profiles/web').send({ description: 'replaced', config: { 'limits.processes': '500' } }).expect(200);
    res = await d.api().get('/1.0/profiles/web').expect(200);
    assert.deepEqual(res.body.metadata, { name: 'web', description: 'replaced', config: { 'limits.processes': '500' }, devices: {}, used_by: [] });

    await d.api().post('/1.0/profiles/web').send({ name: 'web2' }).expect(200);
    await d.api().get('/1.0/profiles/web').expect(404);
    await d.api().get('/1.0/profiles/web2').expect(200);

    const list = await d.api().get('/1.0/profiles?recursion=1').expect(200);
    assert.deepEqual(list.body.metadata.map((p: { name: string }) => p.name), ['default', 'web2']);

    await d.api().delete('/1.0/profiles/web2').expect(200);
    assert.deepEqual((await rows()).filter((r) => r.name).map((r) => r.name), ['default']);
  });

  it('keeps a typed quota row in step with the limits.* keys', async () => {
    const quota = async (name: string) =>
      (await queryEmbedded(d.dir, 'SELECT q.memory_bytes, q.cpu_set, q.cpu_quota_us, q.cpu_period_us, q.processes FROM quotas q JOIN profiles p ON p.id = q.profile_id WHERE p.name = $1', [name]))[0];
    await d.api().post('/1.0/profiles').send({ name: 'limited', config: { 'limits.memory': '256MiB', 'limits.cpu': '0-0', 'limits.cpu.allowance': '25ms/100ms' } }).expect(200);
    assert.deepEqual(await quota('limited'), { memory_bytes: '268435456', cpu_set: [0], cpu_quota_us: 25000, cpu_period_us: 100000, processes: null });
    await d.api().patch('/1.0/profiles/limited').send({ config: { 'limits.processes': '50' } }).expect(200);
    assert.equal((await quota('limited')).processes, 50);
    const before = await queryEmbedded(d.dir, 'SELECT * FROM quotas ORDER BY id');
    const res = await d.api().patch('/1.0/profiles/limited').send({ config: { 'limits.memory': '150%', 'limits.processes': '60' } });
    assertError(res, 400, /^Invalid config\["limits.memory"\]: a percentage must be from 1% to 100%, not 150%$/);
    assert.deepEqual(await queryEmbedded(d.dir, 'SELECT * FROM quotas ORDER BY id'), before);
    await d.api().post('/1.0/profiles/limited').send({ name: 'limited2' }).expect(200);
    assert.equal((await quota('limited2')).processes, 50);
    await d.api().delete('/1.0/profiles/limited2').expect(200);
    const [{ n }] = await queryEmbedded(d.dir, 'SELECT count(*)::int AS n FROM quotas q LEFT JOIN profiles p ON p.id = q.profile_id WHERE p.id IS NULL');
    assert.equal(n, 0);
  });

  it('honours If-Match: a stale ETag is refused with 412 and changes nothing', async () => {
    await d.api().post('/1.0/profiles').send({ name: 'etag' }).expect(200);
    const first = await d.api().get('/1.0/profiles/etag').expect(200);
    await d.api().put('/1.0/profiles/etag').set('If-Match', first.headers.etag).send({ description: 'one' }).expect(200);
    const second = await d.api().get('/1.0/profiles/etag').expect(200);
    assert.notEqual(second.headers.etag, first.headers.etag);
    const before = await rows();
    const res = await d.api().put('/1.0/profiles/etag').set('If-Match', first.headers.etag).send({ description: 'two' });
    assertError(res, 412, /changed since it was read/);
    const stale = await d.api().patch('/1.0/profiles/etag').set('If-Match', first.headers.etag).send({ description: 'two' });
    assertError(stale, 412, /If-Match/);
    assert.deepEqual(await rows(), before);
    await d.api().delete('/1.0/profiles/etag').expect(200);
  });

  it('answers 409 when ten creates of the same name race, and exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => d.api().post('/1.0/profiles').send({ name: 'race', description: `n${i}` })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) assertError(r, 409, /^Profile "race" already exists$/);
    assert.equal((await rows()).filter((r) => r.name === 'race').length, 1);
    const [{ n }] = await queryEmbedded(d.dir, "SELECT count(*)::int AS n FROM quotas q JOIN profiles p ON p.id = q.profile_id WHERE p.name = 'race'");
    assert.equal(n, 1);
    await d.api().delete('/1.0/profiles/race').expect(200);
  });

  it('refuses a rename onto an existing name with 409', async () => {
    await d.api().post('/1.0/profiles').send({ name: 'a1' }).expect(200);
    await d.api().post('/1.0/profiles').send({ name: 'b1' }).expect(200);
    const before = await rows();
    assertError(await d.api().post('/1.0/profiles/a1').send({ name: 'b1' }), 409, /^Profile "b1" already exists$/);
    assert.deepEqual(await rows(), before);
    await d.api().delete('/1.0/profiles/a1').expect(200);
    await d.api().delete('/1.0/profiles/b1').expect(200);
  });

  it('protects the default profile from rename and delete', async () => {
    assertError(await d.api().delete('/1.0/profiles/default'), 403, /"default" profile cannot be deleted/);
    assertError(await d.api().post('/1.0/profiles/default').send({ name: 'other' }), 403, /"default" profile cannot be renamed/);
    assert.deepEqual((await rows()).filter((r) => r.name).map((r) => r.name), ['default']);
  });

  it('answers 404 in the envelope for unknown profiles and routes', async () => {
    assertError(await d.api().get('/1.0/profiles/nope'), 404, /^Profile not found: "nope"$/);
    assertError(await d.api().delete('/1.0/profiles/nope'), 404, /Profile not found/);
    assertError(await d.api().get('/1.0/nothing-here'), 404, /^not found$/);
  });

  describe('bad input: right status, message naming the field, nothing changed', () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['empty name', { name: '' }, 400, /^Invalid name: must not be empty$/],
      ['64-character name', { name: 'a'.repeat(64) }, 400, /^Invalid name: must be at most 63 characters$/],
      ['name with a slash', { name: 'a/b' }, 400, /^Invalid name: must not contain "\/"$/],
      ['name ..', { name: '..' }, 400, /^Invalid name: may only contain letters, digits and "-"$/],
      ['name with a space', { name: 'a b' }, 400, /^Invalid name: must not contain spaces$/],
      ['name with a control character', { name: 'a\u0007b' }, 400, /^Invalid name: must not contain control characters$/],
      ['name starting with a dash', { name: '-web' }, 400, /^Invalid name: must not start or end with "-"$/],
      ['name ending with a dash', { name: 'web-' }, 400, /^Invalid name: must not start or end with "-"$/],
      ['all-digit name', { name: '12345' }, 400, /^Invalid name: must not be only digits$/],
      ['name of the wrong type', { name: 42 }, 400, /^Invalid name: must be a string$/],
      ['unknown config key', { name: 'ok1', config: { 'limits.cpus': '2' } }, 400, /^Invalid config\["limits.cpus"\]: unknown configuration key$/],
      ['config value with NUL', { name: 'ok1', config: { 'user.x': 'a\u0000b' } }, 400, /^Invalid config\["user.x"\]: must not contain NUL characters$/],
      ['config value with a newline', { name: 'ok1', config: { 'environment.X': 'a\nb' } }, 400, /^Invalid config\["environment.X"\]: must not contain newlines$/],
      ['config value of the wrong type', { name: 'ok1', config: { 'limits.cpu': 2 } }, 400, /^Invalid config\["limits.cpu"\]: must be a string$/],
      ['config that is not an object', { name: 'ok1', config: ['a'] }, 400, /^Invalid config: must be an object of string values$/],
      ['bad limits value', { name: 'ok1', config: { 'limits.memory': 'lots' } }, 400, /^Invalid config\["limits.memory"\]: "lots" is not a byte size/],
      ['a CPU the host lacks', { name: 'ok1', config: { 'limits.cpu': '0-4096' } }, 400, /^Invalid config\["limits.cpu"\]: CPU \d+ does not exist on this host/],
      ['a quota over its period', { name: 'ok1', config: { 'limits.cpu.allowance': '200ms/100ms' } }, 400, /^Invalid config\["limits.cpu.allowance"\]: the quota \(200ms\) must not exceed the period \(100ms\)$/],
      ['volatile key', { name: 'ok1', config: { 'volatile.eth0.hwaddr': 'x' } }, 400, /volatile keys are owned by the server/],
      ['device without a type', { name: 'ok1', devices: { root: { path: '/' } } }, 400, /^Invalid devices\["root"\].type: must be one of/],
      ['unknown device key', { name: 'ok1', devices: { root: { type: 'disk', path: '/', colour: 'red' } } }, 400, /^Invalid devices\["root"\]\["colour"\]: unknown key for a disk device$/],
      ['unknown field', { name: 'ok1', colour: 'red' }, 400, /^Invalid colour: unknown field$/],
      ['body that is not an object', ['ok1'], 400, /^Invalid body: must be a JSON object$/],
    ];
    for (const [what, payload, status, message] of cases) {
      it(`refuses ${what}`, async () => {
        const before = await rows();
        assertError(await d.api().post('/1.0/profiles').send(payload as object), status, message);
        assert.deepEqual(await rows(), before);
      });
    }

    it('refuses malformed JSON', async () => {
      const before = await rows();
      assertError(await d.api().post('/1.0/profiles').set('Content-Type', 'application/json').send('{"name": "x",'), 400, /^Invalid JSON body: /);
      assert.deepEqual(await rows(), before);
    });

    it('refuses __proto__ keys, and no prototype is polluted', async () => {
      const before = await rows();
      const body = '{"name":"pp","config":{"__proto__":{"polluted":"yes"}}}';
      assertError(await d.api().post('/1.0/profiles').set('Content-Type', 'application/json').send(body), 400, /^Invalid JSON body: the key "__proto__" is not allowed$/);
      const ctor = '{"name":"pp","constructor":{"prototype":{"polluted":"yes"}}}';
      assertError(await d.api().post('/1.0/profiles').set('Content-Type', 'application/json').send(ctor), 400, /the key "(constructor|prototype)" is not allowed/);
      assert.deepEqual(await rows(), before);
      const res = await d.api().get('/1.0').expect(200);
      assert.equal((res.body as Record<string, unknown>).polluted, undefined);
    });

    it('refuses bodies over 1 MiB with 413', async () => {
      const before = await rows();
      const big = JSON.stringify({ name: 'big', description: 'x'.repeat(1024 * 1024) });
      assertError(await d.api().post('/1.0/profiles').set('Content-Type', 'application/json').send(big), 413, /^Request body too large/);
      assert.deepEqual(await rows(), before);
    });

    it('refuses bad updates without changing the profile', async () => {
      await d.api().post('/1.0/profiles').send({ name: 'keep', config: { 'user.a': '1' } }).expect(200);
      const before = await rows();
      assertError(await d.api().put('/1.0/profiles/keep').send({ config: { 'nope.key': '1' } }), 400, /^Invalid config\["nope.key"\]: unknown configuration key$/);
      assertError(await d.api().patch('/1.0/profiles/keep').send({ devices: { eth0: { type: 'warp' } } }), 400, /^Invalid devices\["eth0"\].type: must be one of/);
      assertError(await d.api().post('/1.0/profiles/keep').send({ name: 'bad/name' }), 400, /^Invalid name: must not contain "\/"$/);
      assertError(await d.api().get('/1.0/profiles?recursion=7'), 400, /^Invalid recursion: must be 0 or 1$/);
      assert.deepEqual(await rows(), before);
      await d.api().delete('/1.0/profiles/keep').expect(200);
    });
  });
});
