// Safe defaults through a real daemon (issue 14): a fresh daemon's default profile limits
// processes and memory; a guest forking without end is held at its limits.processes in its pids
// cgroup; a start that would commit more pids than limits.processes.share of pid_max is refused,
// of two concurrent starts only the one that fits runs, and the refused one leaves nothing (no
// cgroup, no process, no nic); memory admission refuses an over-committing create with no server
// key set.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type ContainerState } from '#runtime';
import { daemonApi } from '../support/api.js';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';

const MINUTES = 60_000;
const BOMB = 'bomb';
const RACERS = ['racer1', 'racer2'];
const CGROUP_ROOT = '/sys/fs/cgroup';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pidMax = () => Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
const pidsDir = (s: ContainerState) => (s.cgroupLayout === 'unified' ? join(CGROUP_ROOT, s.cgroup) : join(CGROUP_ROOT, 'pids', s.cgroup));

/** Every cgroup directory of `name` on the host: its container's and its monitor's, in each hierarchy. */
function cgroupsOf(name: string): string[] {
  const mine = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((e) => e === name || e.startsWith(`${name}-`)).map((e) => join(dir, e)) : []);
  const hierarchies = [CGROUP_ROOT, ...readdirSync(CGROUP_ROOT).map((c) => join(CGROUP_ROOT, c))];
  return hierarchies.flatMap((h) => [...mine(join(h, 'berth')), ...mine(join(h, 'berth', 'monitor'))]);
}

describe('safe defaults', () => {
  let d: Daemon;
  let runtime: Runtime;
  const { wait, finish, removeInstances } = daemonApi(() => d);
  const create = (name: string, config: Record<string, string> = {}) => d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias: 'debian/12' }, config });
  const start = (name: string) => d.api().put(`/1.0/instances/${name}/state`).send({ action: 'start' });
  const instance = async (name: string) => (await d.api().get(`/1.0/instances/${name}`).expect(200)).body.metadata;

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    runtime = new Runtime({ berthDir: d.dir });
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(await readFile(image)));
  });
  after(async () => {
    await removeInstances(BOMB, ...RACERS, 'big');
    await d.destroy();
  });

  it('gives the default profile of a fresh daemon limits.processes and limits.memory; the server config shows no key it was not given', async () => {
    const profile = (await d.api().get('/1.0/profiles/default').expect(200)).body.metadata;
    assert.deepEqual(profile.config, { 'limits.processes': '2000', 'limits.memory': '1GiB' });
    assert.deepEqual((await d.api().get('/1.0').expect(200)).body.metadata.config, {});
    const r = (await d.api().get('/1.0/resources').expect(200)).body.metadata;
    assert.deepEqual(r.admission, { memory_overcommit: 1, memory_allowed: r.memory.total });
  });

  it('holds a guest forking without end at the default limits.processes', { timeout: 3 * MINUTES }, async () => {
    await finish(await create(BOMB));
    await finish(await start(BOMB));
    const state = await runtime.state(BOMB);
    const dir = pidsDir(state);
    assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), '2000\n');

    // dash reports each refused fork and goes on; the sleeps it started stay until the instance stops.
    let done = false;
    const bomb = runtime.exec(BOMB, ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do sleep 600 </dev/null >/dev/null 2>&1 & i=$((i+1)); done']).finally(() => (done = true));
    let peak = 0;
    while (!done) {
      peak = Math.max(peak, Number(readFileSync(join(dir, 'pids.current'), 'utf8')));
      await sleep(20);
    }
    const result = await bomb;
    assert.match(result.stderr, /fork|Resource temporarily unavailable/i);
    const current = Number(readFileSync(join(dir, 'pids.current'), 'utf8'));
    assert.ok(peak <= 2000 && current <= 2000, `pids.current peaked at ${peak}, now ${current}`);
    assert.ok(current > 1900, `the guest filled its limit: ${current} tasks`);
    const refused = (events: string) => Number(/^max (\d+)$/m.exec(events)?.[1] ?? 0);
    const payload = join(dir, 'payload', 'pids.events');
    const refusals = refused(readFileSync(join(dir, 'pids.events'), 'utf8')) + (existsSync(payload) ? refused(readFileSync(payload, 'utf8')) : 0);
    assert.ok(refusals >= 1, 'pids.events counts the refused fork');
  });

  it('admits starts up to limits.processes.share of pid_max: of two concurrent starts that fit only one by one, one runs and the other is refused, leaving nothing', { timeout: 3 * MINUTES }, async () => {
    await d.api().patch('/1.0').send({ config: { 'limits.processes.share': '0.1' } }).expect(200);
    const allowed = Math.floor(pidMax() * 0.1);
    // Each racer fits beside the running bomb exactly; both do not.
    const limit = allowed - 2000;
    for (const name of RACERS) await finish(await create(name, { 'limits.processes': String(limit) }));
    assert.ok(cgroupsOf(BOMB).length > 0, 'a running instance has cgroups where they are looked for');

    const ops = await Promise.all(RACERS.map(async (name) => wait(await start(name))));
    const ran = RACERS.filter((_, i) => ops[i].status === 'Success');
    const refusedAt = RACERS.findIndex((_, i) => ops[i].status !== 'Success');
    assert.equal(ran.length, 1, JSON.stringify(ops.map((o) => [o.status, o.err])));
    const refused = RACERS[refusedAt];
    assert.equal(
      ops[refusedAt].err,
      `Not enough process ids to start "${refused}": limits.processes ${2000 + limit} committed (2 running) + ${limit} requested = ${2000 + 2 * limit}, ` +
        `over the ${allowed} allowed (limits.processes.share=0.1 × pid_max ${pidMax()})`,
    );
    assert.equal(readFileSync(join(pidsDir(await runtime.state(ran[0])), 'pids.max'), 'utf8'), `${limit}\n`);

    const view = await instance(refused);
    assert.equal(view.status, 'Stopped');
    assert.equal(view.config['volatile.uuid'], undefined, 'the refused start got as far as no uuid');
    assert.equal(view.config['volatile.eth0.host_name'], undefined);
    assert.equal((await runtime.state(refused)).state, 'Stopped');
    assert.deepEqual(cgroupsOf(refused), []);
    const [row] = await queryEmbedded(d.dir, 'SELECT status FROM instances WHERE name = $1', [refused]);
    assert.equal(row.status, 'Stopped');

    // Raising the share admits it.
    await d.api().patch('/1.0').send({ config: { 'limits.processes.share': '' } }).expect(200);
    assert.deepEqual((await d.api().get('/1.0').expect(200)).body.metadata.config, {});
    await finish(await start(refused));
  });

  it('refuses a create whose memory limit would commit more than the host has, with no server key set', async () => {
    const hostMemory = (await d.api().get('/1.0/resources').expect(200)).body.metadata.memory.total as number;
    const res = await create('big', { 'limits.memory': `${Math.ceil(hostMemory / 1024 ** 2)}MiB` });
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 400);
    assert.match(res.body.error, /^Not enough memory to admit "big": 3\.00GiB committed \+ [\d.]+GiB requested = [\d.]+GiB, over the [\d.]+GiB allowed \(limits\.memory\.overcommit=1 × [\d.]+GiB host memory\)$/);
    await d.api().get('/1.0/instances/big').expect(404);
  });
});
