import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '#core';
import { InstanceRepository } from '../../libs/instances/src/infrastructure/instance.repository.js';
import { IdRangeExhaustedError } from '../../libs/instances/src/domain/instance.errors.js';
import { migratedDatabase, type PostgresServer } from '../support/postgres.js';

const SIZE = 65_536;

describe('id range allocation (integration, real Postgres)', () => {
  let pg: PostgresServer;
  let db: Database;
  let close: () => Promise<void>;
  let repo: InstanceRepository;

  before(async () => {
    ({ pg, db, close } = await migratedDatabase());
    repo = new InstanceRepository(db, undefined as never, undefined as never); // id ranges need neither profiles nor quotas
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) {
      await pg.query("INSERT INTO instances (name, architecture, status) VALUES ($1, 'x86_64', 'Stopped')", [name]);
    }
  });
  after(() => close());

  it('gives concurrent starts distinct ranges, and an instance keeps its own', async () => {
    const bases = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => repo.allocateIdRange(n, 1_000_000, 5 * SIZE, SIZE)));
    assert.deepEqual([...bases].sort((x, y) => x - y), [0, 1, 2, 3, 4].map((k) => 1_000_000 + k * SIZE));
    assert.equal(await repo.allocateIdRange('c', 1_000_000, 5 * SIZE, SIZE), bases[2]);
  });

  it('refuses when every range is taken, and reuses a range freed by a deleted instance', async () => {
    await assert.rejects(repo.allocateIdRange('f', 1_000_000, 5 * SIZE, SIZE), (e: unknown) => e instanceof IdRangeExhaustedError && e.message === 'No free range of 65536 ids is left in 1000000-1327679 for an unprivileged container');
    const { rows } = await pg.query("SELECT volatile->>'volatile.idmap.base' AS base FROM instances WHERE name = 'b'");
    await pg.query("DELETE FROM instances WHERE name = 'b'");
    assert.equal(await repo.allocateIdRange('g', 1_000_000, 5 * SIZE, SIZE), Number(rows[0].base));
  });
});
