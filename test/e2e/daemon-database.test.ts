import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTHD, startDaemon, type Daemon } from '../support/daemon.js';
import { eventually } from '../support/faults.js';
import { queryEmbedded } from '../support/db.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres.js';
import { migrations } from '../../migrations/index.js';

const MIGRATION_NAMES = migrations.map((m) => m.name);

function runDaemon(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BERTHD], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const postmasterPid = (d: Daemon) => Number(readFileSync(join(d.dir, 'database', 'postmaster.pid'), 'utf8').split('\n')[0]);

describe('daemon configuration', () => {
  it('refuses a bad environment variable with a message naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
    try {
      let r = await runDaemon({ BERTH_DIR: dir, BERTH_LOG_LEVEL: 'chatty' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^berthd: Invalid environment variable BERTH_LOG_LEVEL="chatty": must be one of fatal, error, warn, info, debug, trace, silent\n$/);
      r = await runDaemon({ BERTH_DIR: 'relative/dir' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Invalid environment variable BERTH_DIR="relative\/dir": must be an absolute path/);
      r = await runDaemon({ BERTH_DIR: dir, DATABASE_URL: 'mysql://x' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Invalid environment variable DATABASE_URL="mysql:\/\/x": must be a postgres:\/\/ or postgresql:\/\/ URL/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded database', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.destroy();
  });

  it('listens on $BERTH_DIR/unix.socket with mode 0660, with its data under $BERTH_DIR/database', async () => {
    const s = await stat(d.socket);
    assert.ok(s.isSocket());
    assert.equal(s.mode & 0o777, 0o660);
    assert.equal(s.uid, 0);
    assert.ok((await stat(join(d.dir, 'database', 'PG_VERSION'))).isFile());
    const rows = await queryEmbedded(d.dir, 'SELECT name FROM migrations ORDER BY id');
    assert.deepEqual(rows.map((r) => r.name), MIGRATION_NAMES);
  });

  it('refuses to start a second daemon on the same BERTH_DIR', async () => {
    const r = await runDaemon({ BERTH_DIR: d.dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Another berthd is already serving .*unix\.socket/);
    await d.api().get('/1.0').expect(200);
  });

  it('answers 503 while its Postgres is down, restarts it, and recovers by itself', async () => {
    await d.api().post('/1.0/profiles').send({ name: 'survivor' }).expect(200);
    const postmaster = postmasterPid(d);
    process.kill(postmaster, 'SIGKILL');
    const unavailable = await eventually('a 503', async () => {
      const res = await d.api().get('/1.0/profiles');
      return res.status === 503 ? res : undefined;
    });
    assert.equal(unavailable.body.error_code, 503);
    assert.equal(unavailable.body.error, 'The database is unavailable; try again shortly');
    await d.api().get('/1.0').expect(200); // what does not need the database still answers
    const back = await eventually('recovery', async () => {
      const res = await d.api().get('/1.0/profiles');
      return res.status === 200 ? res : undefined;
    });
    assert.deepEqual(back.body.metadata, ['/1.0/profiles/default', '/1.0/profiles/survivor']);
  });

  it('stops its Postgres on SIGTERM and removes its socket', async () => {
    const postmaster = postmasterPid(d);
    assert.equal(await d.stop(), 0);
    await assert.rejects(stat(d.socket));
    await assert.rejects(stat(`/proc/${postmaster}`));
    d = await d.restart();
    await d.api().get('/1.0/profiles/survivor').expect(200);
  });
});

describe('external database (DATABASE_URL)', () => {
  let pg: PostgresServer;
  const daemons: Daemon[] = [];
  before(async () => {
    pg = await startPostgresServer();
  });
  after(async () => {
    for (const d of daemons) await d.destroy();
    await pg.destroy();
  });

  it('two daemons starting together apply the migrations once and share the data', async () => {
    const [a, b] = await Promise.all([startDaemon({ env: { DATABASE_URL: pg.url } }), startDaemon({ env: { DATABASE_URL: pg.url } })]);
    daemons.push(a, b);
    const { rows } = await pg.query('SELECT name FROM migrations ORDER BY id');
    assert.deepEqual(rows.map((r) => r.name), MIGRATION_NAMES);
    const { rows: profiles } = await pg.query("SELECT name FROM profiles WHERE name = 'default'");
    assert.equal(profiles.length, 1);
    const info = await a.api().get('/1.0').expect(200);
    assert.equal(info.body.metadata.environment.database.embedded, false);
    await assert.rejects(stat(join(a.dir, 'database')));
    await a.api().post('/1.0/profiles').send({ name: 'shared' }).expect(200);
    await b.api().get('/1.0/profiles/shared').expect(200);
  });

  it('answers 503 while the server is down and recovers when it is back', async () => {
    const [a] = daemons;
    await pg.stop();
    const res = await a.api().get('/1.0/profiles?recursion=1');
    assert.equal(res.status, 503);
    assert.equal(res.body.error, 'The database is unavailable; try again shortly');
    const refused = await a.api().post('/1.0/profiles').send({ name: 'during-outage' });
    assert.equal(refused.status, 503);
    await a.api().get('/1.0').expect(200);
    await pg.start();
    const back = await eventually('recovery', async () => {
      const r = await a.api().get('/1.0/profiles');
      return r.status === 200 ? r : undefined;
    });
    assert.deepEqual(back.body.metadata, ['/1.0/profiles/default', '/1.0/profiles/shared']);
  });
});
