import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLogger, Database, loadConfig } from '#core';
import { EventHub, OperationRunner, OperationsModule } from '#operations';
import { ProfilesModule } from '#profiles';
import { QuotasModule } from '#quotas';
import { migrations } from '../../migrations/index.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres.js';

const log = createLogger('silent');

describe('database (integration, real Postgres)', () => {
  let pg: PostgresServer;
  let dbs: Database[] = [];
  before(async () => {
    pg = await startPostgresServer();
  });
  after(async () => {
    for (const db of dbs) await db.close();
    await pg.destroy();
  });

  it('applies migrations exactly once when three daemons open the database at the same time', async () => {
    const config = loadConfig({ BERTH_DIR: '/nonexistent', DATABASE_URL: pg.url });
    dbs = await Promise.all([0, 1, 2].map(() => Database.open(config, log, [...ProfilesModule.entities, ...OperationsModule.entities, ...QuotasModule.entities], migrations)));
    const { rows } = await pg.query('SELECT name FROM migrations ORDER BY id');
    assert.deepEqual(rows.map((r) => r.name), migrations.map((m) => m.name));
    const { rows: defaults } = await pg.query("SELECT count(*)::int AS n FROM profiles WHERE name = 'default'");
    assert.equal(defaults[0].n, 1);
  });

  it('fails only the interrupted operations of the restarted daemon', async () => {
    const [db] = dbs;
    const mine = { owner: 'host:/var/lib/a', bootId: randomUUID() };
    const other = { owner: 'host:/var/lib/b', bootId: randomUUID() };
    const first = new OperationRunner(db.dataSource, new EventHub(), mine, log);
    const neighbour = new OperationRunner(db.dataSource, new EventHub(), other, log);
    const never = () => new Promise<void>(() => undefined);
    const a = await first.start({ description: 'a', run: never });
    const b = await neighbour.start({ description: 'b', run: never });
    const restarted = new OperationRunner(db.dataSource, new EventHub(), { ...mine, bootId: randomUUID() }, log);
    assert.equal(await restarted.failInterrupted(), 1);
    assert.equal((await restarted.get(a.id)).status, 'Failure');
    assert.equal((await restarted.get(a.id)).err, 'Interrupted: the daemon stopped before the operation finished');
    assert.equal((await restarted.get(b.id)).status, 'Running');
  });
});
