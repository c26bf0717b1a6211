// The instance locks' session (AdvisoryLocks) against a real Postgres: exclusive across daemons,
// not re-entrant within one, released when a daemon's session dies, and taken again by a daemon
// whose session came back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdvisoryLocks, createLogger } from '#core';
import { startPostgresServer, type PostgresServer } from '../support/postgres.js';

const CLASS = 0x7e570001;

describe('advisory locks on a connection set aside (integration, real Postgres)', () => {
  let pg: PostgresServer;
  let a: AdvisoryLocks;
  let b: AdvisoryLocks;

  before(async () => {
    pg = await startPostgresServer();
    a = new AdvisoryLocks({ url: pg.url }, createLogger('silent'));
    b = new AdvisoryLocks({ url: pg.url }, createLogger('silent'));
  });
  after(async () => {
    await a.close();
    await b.close();
    await pg.destroy();
  });

  const sessions = async () => Number((await pg.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'berthd locks'")).rows[0].n);

  it('excludes another daemon and a second take within the daemon; many locks share one connection', async () => {
    assert.equal(await a.tryLock(CLASS, 1), true);
    assert.equal(await a.tryLock(CLASS, 1), false, 'Postgres would re-enter: the daemon refuses');
    assert.equal(await b.tryLock(CLASS, 1), false);
    assert.deepEqual(await Promise.all([2, 3, 4].map((id) => a.tryLock(CLASS, id))), [true, true, true]);
    assert.equal(await sessions(), 2, 'one session per daemon, however many locks');
    await a.unlock(CLASS, 1);
    assert.equal(await b.tryLock(CLASS, 1), true);
    await b.unlock(CLASS, 1);
  });

  it('tells background holds apart, for requests to wait on them, and holds a lock until Postgres has released it', async () => {
    assert.equal(await a.tryLock(CLASS, 9, { background: true }), true);
    assert.equal(a.shortlyFree(CLASS, 9), true);
    assert.equal(a.shortlyFree(CLASS, 2), false);
    await a.unlock(CLASS, 9);
    assert.equal(a.shortlyFree(CLASS, 9), false);
    assert.equal(await a.tryLock(CLASS, 10), true);
    const releasing = a.unlock(CLASS, 10);
    assert.equal(a.shortlyFree(CLASS, 10), true, 'being released: shortly free');
    assert.equal(a.holds(CLASS, 10), true, 'still held until Postgres answers');
    await releasing;
    assert.equal(a.holds(CLASS, 10), false);
    assert.equal(await b.tryLock(CLASS, 10), true, 'free in Postgres as soon as it is free in memory');
    await b.unlock(CLASS, 10);
  });

  it("releases a daemon's locks when its session dies, and takes them again once it can", async () => {
    // a holds 2, 3 and 4. Its session is terminated (a database restart, a network cut).
    await pg.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'berthd locks' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = 2)", [CLASS]);
    // While a is away, its memory still refuses its own second take.
    assert.equal(await a.tryLock(CLASS, 2), false);
    // a reconnects in the background and takes 2, 3 and 4 again; b then finds them held.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && Number((await pg.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1", [CLASS])).rows[0].n) < 3) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(await Promise.all([2, 3, 4].map((id) => b.tryLock(CLASS, id))), [false, false, false]);
    for (const id of [2, 3, 4]) await a.unlock(CLASS, id);
    assert.equal(await b.tryLock(CLASS, 3), true);
  });
});
