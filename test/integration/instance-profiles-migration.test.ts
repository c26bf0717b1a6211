import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '#core';
import { undoMigrationsThrough } from '../support/db.js';
import { migratedDatabase, type PostgresServer } from '../support/postgres.js';

const ATTACHED = `SELECT i.name AS instance, ip.position, ip.profile_name FROM instance_profiles ip JOIN instances i ON i.id = ip.instance_id ORDER BY i.name, ip.position`;

describe("instance_profiles keyed by the profiles' names (integration, real Postgres)", () => {
  let pg: PostgresServer;
  let db: Database;
  let close: () => Promise<void>;

  before(async () => {
    ({ pg, db, close } = await migratedDatabase());
  });
  after(() => close());

  it('carries the rows over both ways, follows a profile rename and refuses to delete a profile in use', async () => {
    await pg.query("INSERT INTO profiles (name, description) VALUES ('web', '')");
    await pg.query("INSERT INTO instances (name, architecture, status) VALUES ('c1', 'x86_64', 'Stopped'), ('c2', 'x86_64', 'Stopped')");
    await pg.query(
      `INSERT INTO instance_profiles (instance_id, profile_name, position)
       SELECT i.id, p.name, p.position FROM instances i, (VALUES ('default', 0), ('web', 1)) AS p(name, position) WHERE i.name = 'c1'
       UNION ALL SELECT id, 'web', 0 FROM instances WHERE name = 'c2'`,
    );
    const before = (await pg.query(ATTACHED)).rows;

    await undoMigrationsThrough(db.dataSource, 'InstanceProfilesByName1765100000000');
    const byId = (await pg.query('SELECT i.name AS instance, ip.position, p.name AS profile_name FROM instance_profiles ip JOIN instances i ON i.id = ip.instance_id JOIN profiles p ON p.id = ip.profile_id ORDER BY i.name, ip.position')).rows;
    assert.deepEqual(byId, before);

    await db.dataSource.runMigrations({ transaction: 'each' });
    assert.deepEqual((await pg.query(ATTACHED)).rows, before);

    await pg.query("UPDATE profiles SET name = 'lamp' WHERE name = 'web'");
    assert.deepEqual((await pg.query(ATTACHED)).rows.map((r) => r.profile_name), ['default', 'lamp', 'lamp']);
    await assert.rejects(pg.query("DELETE FROM profiles WHERE name = 'lamp'"), /instance_profiles_profile_name_fkey/);
  });
});
