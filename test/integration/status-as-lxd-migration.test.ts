import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '#core';
import { undoMigrationsThrough } from '../support/db.js';
import { migratedDatabase, type PostgresServer } from '../support/postgres.js';

const ROWS = `SELECT name, status, volatile FROM instances ORDER BY name`;

describe('instances recorded Ready by systemd become Running (integration, real Postgres)', () => {
  let pg: PostgresServer;
  let db: Database;
  let close: () => Promise<void>;

  before(async () => {
    ({ pg, db, close } = await migratedDatabase());
  });
  after(() => close());

  it('up: Ready is Running without the flag READY=1 set; down: an announced boot is Ready again', async () => {
    await undoMigrationsThrough(db.dataSource, 'StatusAsLxd1765203600000');
    await pg.query(
      `INSERT INTO instances (name, architecture, status, volatile) VALUES
         ('booted', 'x86_64', 'Ready', '{"volatile.last_state.ready": "true", "volatile.uuid": "u1"}'),
         ('frozen', 'x86_64', 'Frozen', '{"volatile.last_state.ready": "true"}'),
         ('off', 'x86_64', 'Stopped', '{}')`,
    );
    await db.dataSource.runMigrations({ transaction: 'each' });
    assert.deepEqual((await pg.query(ROWS)).rows, [
      { name: 'booted', status: 'Running', volatile: { 'volatile.uuid': 'u1' } },
      { name: 'frozen', status: 'Frozen', volatile: {} },
      { name: 'off', status: 'Stopped', volatile: {} },
    ]);

    await pg.query(`UPDATE instances SET volatile = volatile || '{"volatile.boot.ready": "1700000000000"}' WHERE name = 'booted'`);
    await undoMigrationsThrough(db.dataSource, 'StatusAsLxd1765203600000');
    assert.deepEqual((await pg.query(ROWS)).rows[0], { name: 'booted', status: 'Ready', volatile: { 'volatile.uuid': 'u1', 'volatile.last_state.ready': 'true' } });
    await db.dataSource.runMigrations({ transaction: 'each' });
  });
});
