import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { listen } from '../support/events.js';

describe('operations and events', () => {
  let d: Daemon;

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.destroy();
  });

  it('GET / and GET /1.0 describe the server', async () => {
    const root = await d.api().get('/').expect(200);
    assert.deepEqual(root.body.metadata, ['/1.0']);
    const res = await d.api().get('/1.0').expect(200);
    const info = res.body.metadata;
    assert.equal(info.api_version, '1.0');
    assert.equal(info.api_status, 'stable');
    assert.equal(info.auth, 'trusted');
    assert.ok(Array.isArray(info.api_extensions));
    assert.equal(info.environment.server, 'berth');
    assert.equal(info.environment.server_pid, d.pid);
    assert.equal(info.environment.kernel, 'Linux');
    assert.ok(info.environment.architectures.length >= 1);
    assert.deepEqual(Object.keys(info.environment.database).sort(), ['embedded', 'type', 'version']);
    assert.equal(info.environment.database.embedded, true);
    assert.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  });

  it('runs an async operation: 202 + Location, persisted, waited for, listed', async () => {
    const res = await d.api().post('/internal/testing/operations').send({ duration_ms: 300 }).expect(202);
    assert.equal(res.body.type, 'async');
    assert.equal(res.body.status_code, 100);
    const url: string = res.body.operation;
    assert.equal(res.headers.location, url);
    assert.equal(res.body.metadata.status, 'Running');
    const id = res.body.metadata.id;
    const [row] = await queryEmbedded(d.dir, 'SELECT status_code FROM operations WHERE id = $1', [id]);
    assert.equal(row.status_code, 103);
    const listed = await d.api().get('/1.0/operations').expect(200);
    assert.ok(listed.body.metadata.running.includes(url));
    const waited = await d.api().get(`${url}/wait?timeout=30`).expect(200);
    assert.equal(waited.body.metadata.status, 'Success');
    assert.equal(waited.body.metadata.status_code, 200);
    assert.deepEqual(waited.body.metadata.metadata, { slept_ms: 300 });
    const [done] = await queryEmbedded(d.dir, 'SELECT status_code FROM operations WHERE id = $1', [id]);
    assert.equal(done.status_code, 200);
    const recursive = await d.api().get('/1.0/operations?recursion=1').expect(200);
    assert.ok(recursive.body.metadata.success.some((o: { id: string }) => o.id === id));
  });

  it('wait with a timeout returns the still-running operation', async () => {
    const res = await d.api().post('/internal/testing/operations').send({ duration_ms: 5000, cancellable: true }).expect(202);
    const waited = await d.api().get(`${res.body.operation}/wait?timeout=0.2`).expect(200);
    assert.equal(waited.body.metadata.status, 'Running');
    await d.api().delete(res.body.operation).expect(200);
  });

  it('cancels a cancellable operation, refuses an uncancellable one', async () => {
    const a = await d.api().post('/internal/testing/operations').send({ duration_ms: 60000, cancellable: true }).expect(202);
    await d.api().delete(a.body.operation).expect(200);
    const got = await d.api().get(a.body.operation).expect(200);
    assert.equal(got.body.metadata.status, 'Cancelled');
    assert.equal(got.body.metadata.status_code, 401);
    const b = await d.api().post('/internal/testing/operations').send({ duration_ms: 200 }).expect(202);
    const refused = await d.api().delete(b.body.operation);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error, /cannot be cancelled/);
    await d.api().get(`${b.body.operation}/wait`).expect(200);
  });

  it('records a failing operation with its error', async () => {
    const res = await d.api().post('/internal/testing/operations').send({ duration_ms: 10, fail: 'disk on fire' }).expect(202);
    const waited = await d.api().get(`${res.body.operation}/wait?timeout=10`).expect(200);
    assert.equal(waited.body.metadata.status, 'Failure');
    assert.equal(waited.body.metadata.err, 'disk on fire');
  });

  it('answers 404 for unknown operations and 400 for a bad timeout', async () => {
    const res = await d.api().get('/1.0/operations/00000000-0000-0000-0000-000000000000');
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'Operation not found: 00000000-0000-0000-0000-000000000000');
    const bad = await d.api().get('/1.0/operations/00000000-0000-0000-0000-000000000000/wait?timeout=soon');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'Invalid timeout: must be a number of seconds, or -1');
  });

  it('streams lifecycle events, filtered by type', async () => {
    const lifecycle = await listen(d.socket, 'lifecycle');
    const operations = await listen(d.socket, 'operation');
    await d.api().post('/1.0/profiles').send({ name: 'evt' }).expect(200);
    await d.api().patch('/1.0/profiles/evt').send({ description: 'x' }).expect(200);
    await d.api().post('/1.0/profiles/evt').send({ name: 'evt2' }).expect(200);
    await d.api().delete('/1.0/profiles/evt2').expect(200);
    const created = await lifecycle.waitFor((e) => e.metadata.action === 'profile-created');
    assert.equal(created.type, 'lifecycle');
    assert.equal(created.metadata.source, '/1.0/profiles/evt');
    await lifecycle.waitFor((e) => e.metadata.action === 'profile-updated' && e.metadata.source === '/1.0/profiles/evt');
    const renamed = await lifecycle.waitFor((e) => e.metadata.action === 'profile-renamed');
    assert.deepEqual(renamed.metadata.context, { old_name: 'evt' });
    await lifecycle.waitFor((e) => e.metadata.action === 'profile-deleted' && e.metadata.source === '/1.0/profiles/evt2');
    assert.ok(lifecycle.events.every((e) => e.type === 'lifecycle'));
    const op = await d.api().post('/internal/testing/operations').send({ duration_ms: 10 }).expect(202);
    await operations.waitFor((e) => e.metadata.id === op.body.metadata.id && e.metadata.status === 'Success');
    assert.ok(operations.events.every((e) => e.type === 'operation'));
    assert.ok(!operations.events.some((e) => e.metadata.action === 'profile-created'));
    lifecycle.close();
    operations.close();
  });

  it('streams logging events', async () => {
    const logging = await listen(d.socket, 'logging');
    await d.api().get('/1.0/profiles').expect(200);
    const e = await logging.waitFor((ev) => ev.metadata.message === 'request');
    assert.equal(e.type, 'logging');
    logging.close();
  });

  it('refuses an unknown event type', async () => {
    const ws = new WebSocket(`ws+unix://${d.socket}:/1.0/events?type=gossip`);
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 400);
  });

  it('marks an operation interrupted by SIGKILL as failed, with a reason, after restart', async () => {
    const res = await d.api().post('/internal/testing/operations').send({ duration_ms: 600000 }).expect(202);
    const id = res.body.metadata.id;
    await d.kill('SIGKILL');
    d = await d.restart();
    const got = await d.api().get(`/1.0/operations/${id}`).expect(200);
    assert.equal(got.body.metadata.status, 'Failure');
    assert.equal(got.body.metadata.status_code, 400);
    assert.equal(got.body.metadata.err, 'Interrupted: the daemon stopped before the operation finished');
    const listed = await d.api().get('/1.0/operations').expect(200);
    assert.ok(listed.body.metadata.failure.includes(`/1.0/operations/${id}`));
  });

  it('ends running operations as failed on a clean SIGTERM stop too', async () => {
    const res = await d.api().post('/internal/testing/operations').send({ duration_ms: 600000 }).expect(202);
    const id = res.body.metadata.id;
    assert.equal(await d.stop(), 0);
    d = await d.restart();
    const got = await d.api().get(`/1.0/operations/${id}`).expect(200);
    assert.equal(got.body.metadata.status, 'Failure');
    assert.match(got.body.metadata.err, /daemon is shutting down/);
  });
});
