// LXD's own client (Debian's lxd-client, LXD 5.0.2) reads and manages Berth's warnings: `lxc
// warning list|show|ack|delete` against a real daemon and Postgres. The inotify condition is made
// real for this daemon only: it runs in a mount namespace of its own where a file of the test is
// bound over /proc/sys/fs/inotify/max_user_instances, so the daemon's check reads that file at its
// real path while the host's limit is never touched. The cgroup layout warning is the host's own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const INOTIFY = 'Inotify limits too low';
const SYSCTL = '/proc/sys/fs/inotify/max_user_instances';

interface Warning {
  uuid: string;
  type: string;
  status: string;
  severity: string;
  count: number;
  last_message: string;
  first_seen_at: string;
  last_seen_at: string;
}

describe("LXD's lxc warning verbs against berthd's host warnings", () => {
  let d: Daemon;
  let dir: string;
  let sysctl: string;
  const lxc = lxcRunner(() => d);
  const warnings = async (...flags: string[]) => JSON.parse((await lxc('warning', 'list', ...flags, '--format', 'json')).stdout) as Warning[] | null;
  const inotify = async () => (await warnings('--all'))?.find((w) => w.type === INOTIFY);
  const row = async (uuid: string) => (await queryEmbedded(d.dir, 'SELECT status, count FROM warnings WHERE uuid = $1', [uuid]))[0];
  /** The daemon checks the host at start: a restart is a check, with the file as the test left it. */
  const restartWith = async (instances: number) => {
    await writeFile(sysctl, `${instances}\n`);
    await d.stop();
    d = await d.restart();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-warnings-'));
    sysctl = join(dir, 'max_user_instances');
    await writeFile(sysctl, '128\n');
    d = await startDaemon({
      env: { BERTH_STORAGE_DRIVER: 'dir' },
      wrapper: ['unshare', '--mount', '--propagation', 'slave', 'sh', '-c', `mount --bind '${sysctl}' ${SYSCTL} && exec "$@"`, 'sh'],
    });
    await configureLxc(d);
  });
  after(async () => {
    await d.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('lxc warning list shows the inotify warning the daemon found at start, and the cgroup layout of this host', async () => {
    const list = (await warnings()) ?? [];
    const found = list.find((w) => w.type === INOTIFY);
    assert.ok(found, JSON.stringify(list));
    assert.equal(found.status, 'new');
    assert.equal(found.severity, 'moderate');
    assert.equal(found.count, 1);
    assert.match(found.last_message, /^fs\.inotify\.max_user_instances is 128 \(Berth wants at least 1048576\): .*sysctl -w fs\.inotify\.max_user_instances=1048576/);
    assert.equal(readFileSync(SYSCTL, 'utf8').trim() === '128', false, "the host's own limit is not the test's");

    const v1 = / - cgroup cgroup /.test(readFileSync('/proc/self/mountinfo', 'utf8'));
    const cgroup = list.find((w) => w.type === 'Cgroup layout limits');
    if (v1) assert.match(cgroup?.last_message ?? '', /^(Hybrid|Legacy) cgroup layout: limits go through cgroup v1 controllers/);
    else assert.equal(cgroup, undefined, 'a cgroup v2 host with every controller has no cgroup warning');

    const table = (await lxc('warning', 'list', '--format', 'csv')).stdout;
    assert.match(table, new RegExp(`^${found.uuid},${INOTIFY},NEW,MODERATE,1,,`, 'm'));
  });

  it('lxc warning show prints the warning in LXD\'s shape', async () => {
    const { uuid } = (await inotify())!;
    const shown = parse((await lxc('warning', 'show', uuid)).stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(shown).sort(), ['count', 'entity_url', 'first_seen_at', 'last_message', 'last_seen_at', 'location', 'project', 'severity', 'status', 'type', 'uuid']);
    assert.equal(shown.uuid, uuid);
    assert.equal(shown.location, 'none');
    assert.equal(shown.entity_url, '');
    await assert.rejects(lxc('warning', 'show', '00000000-0000-4000-8000-000000000000'), (e: { stderr: string }) => /Warning not found/.test(e.stderr));
  });

  it('lxc warning ack acknowledges it: the row changes, list hides it, list --all shows it; a check while the condition holds keeps the status and counts', async () => {
    const { uuid } = (await inotify())!;
    await lxc('warning', 'ack', uuid);
    assert.deepEqual(await row(uuid), { status: 'acknowledged', count: 1 });
    assert.equal(((await warnings()) ?? []).some((w) => w.uuid === uuid), false);
    assert.match((await lxc('warning', 'list', '--all', '--format', 'csv')).stdout, new RegExp(`^${uuid},${INOTIFY},ACKNOWLEDGED,`, 'm'));

    const before = (await inotify())!;
    await restartWith(128);
    const again = (await inotify())!;
    assert.equal(again.uuid, uuid, 'the same condition keeps its row');
    assert.equal(again.status, 'acknowledged');
    assert.equal(again.count, 2);
    assert.equal(again.first_seen_at, before.first_seen_at);
    assert.ok(Date.parse(again.last_seen_at) > Date.parse(before.last_seen_at));
  });

  it('is resolved when the condition clears, and new again when it comes back', async () => {
    const { uuid } = (await inotify())!;
    await restartWith(1_048_576);
    assert.deepEqual(await row(uuid), { status: 'resolved', count: 2 });
    assert.match((await lxc('warning', 'list', '--all', '--format', 'csv')).stdout, new RegExp(`^${uuid},${INOTIFY},RESOLVED,`, 'm'));
    await restartWith(200);
    const back = (await inotify())!;
    assert.equal(back.uuid, uuid);
    assert.equal(back.status, 'new');
    assert.equal(back.count, 3);
    assert.match(back.last_message, /^fs\.inotify\.max_user_instances is 200 /);
  });

  it('lxc warning delete removes the row; it comes back at the next check only while the condition holds', async () => {
    const { uuid } = (await inotify())!;
    await lxc('warning', 'delete', uuid);
    assert.equal(await row(uuid), undefined);
    await assert.rejects(lxc('warning', 'show', uuid), (e: { stderr: string }) => /Warning not found/.test(e.stderr));

    await restartWith(1_048_576);
    assert.equal(await inotify(), undefined, 'gone for good while the limit is high enough');
    await restartWith(128);
    const fresh = (await inotify())!;
    assert.notEqual(fresh.uuid, uuid);
    assert.equal(fresh.status, 'new');
    assert.equal(fresh.count, 1);
  });

  it('refuses a status other than acknowledged or new, an unknown warning and an unsupported filter, changing nothing', async () => {
    const { uuid } = (await inotify())!;
    let res = await d.api().put(`/1.0/warnings/${uuid}`).send({ status: 'resolved' });
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'Status may only be set to "acknowledged" or "new"');
    res = await d.api().patch(`/1.0/warnings/${uuid}`).send({ status: 'gone' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'Invalid status: "gone" is not a warning status (new, acknowledged or resolved)');
    assert.deepEqual(await row(uuid), { status: 'new', count: 1 });
    res = await d.api().get('/1.0/warnings/not-a-uuid');
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'Warning not found');
    assert.equal((await d.api().delete('/1.0/warnings/00000000-0000-4000-8000-000000000000')).status, 404);
    res = await d.api().get('/1.0/warnings').query({ filter: 'type eq x' });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /^Invalid filter: /);

    await d.api().patch(`/1.0/warnings/${uuid}`).send({ status: 'acknowledged' }).expect(200);
    const acknowledged = (await d.api().get('/1.0/warnings').query({ recursion: '1', filter: 'status eq acknowledged' }).expect(200)).body.metadata as Warning[];
    assert.deepEqual(acknowledged.map((w) => w.uuid), [uuid]);
    assert.ok(((await d.api().get('/1.0/warnings').expect(200)).body.metadata as string[]).includes(`/1.0/warnings/${uuid}`));
  });
});
