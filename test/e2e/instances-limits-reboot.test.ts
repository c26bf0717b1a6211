// An instance's memory limit through berthd: in its cgroup from the start, and kept through
// reboots from inside (`systemctl reboot`, which gives the container a new cgroup), the value
// changed live through the API included, also while berthd is not running.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Runtime, type ContainerState } from '#runtime';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';

const NAME = 'lr';
const MiB = 1024 * 1024;
const MINUTES = 60_000;

/** The v1 memory limit of a container's own cgroup (what the monitor and berthd write). */
const memoryLimit = (state: ContainerState) => Number(readFileSync(`/sys/fs/cgroup/memory/${state.cgroup}/memory.limit_in_bytes`, 'utf8'));

describe('an instance\'s limits survive a reboot from inside, with berthd up or down', () => {
  let d: Daemon;
  let runtime: Runtime;
  let down = false;

  const { finish, removeInstances, booted } = daemonApi(() => d);
  /** Reboots the container from inside (no operation to wait for: it ends with its init) and waits for the new init to be Ready. */
  const reboot = async (before: ContainerState): Promise<ContainerState> => {
    runtime.execStream(NAME, ['systemctl', 'reboot']);
    let now = await runtime.state(NAME);
    for (let i = 0; i < 600 && (now.pid === before.pid || now.readyMs === null); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      now = await runtime.state(NAME);
    }
    assert.ok(now.state === 'Running' && now.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(now)}`);
    assert.equal(now.reboots, before.reboots + 1);
    assert.notEqual(now.cgroup, before.cgroup, 'the monitor gave the new init a new cgroup');
    return now;
  };

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    runtime = new Runtime({ berthDir: d.dir });
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
    await finish(
      await d.api().post('/1.0/instances').send({ name: NAME, source: { type: 'image', alias: 'debian/12' }, config: { 'limits.memory': '256MiB' } }),
    );
  });
  after(async () => {
    if (down) d = await d.restart();
    await removeInstances(NAME);
    await d.destroy();
  });

  it('starts with the limit in place and keeps it through a reboot from inside', { timeout: 5 * MINUTES }, async () => {
    await finish(await d.api().put(`/1.0/instances/${NAME}/state`).send({ action: 'start' }));
    await booted(NAME);
    const started = await runtime.state(NAME);
    assert.equal(memoryLimit(started), 256 * MiB);
    const rebooted = await reboot(started);
    assert.equal(memoryLimit(rebooted), 256 * MiB);
  });

  it('keeps a limit changed live when the container reboots while berthd is down', { timeout: 5 * MINUTES }, async () => {
    await d.api().patch(`/1.0/instances/${NAME}`).send({ config: { 'limits.memory': '300MiB' } }).expect(200);
    const running = await runtime.state(NAME);
    assert.equal(memoryLimit(running), 300 * MiB, 'applied live');
    await d.kill('SIGKILL');
    down = true;
    const rebooted = await reboot(running);
    assert.equal(memoryLimit(rebooted), 300 * MiB, 'carried by the monitor alone');

    d = await d.restart();
    down = false;
    const instance = (await d.api().get(`/1.0/instances/${NAME}`).expect(200)).body.metadata;
    assert.equal(instance.status, 'Running');
    assert.equal(memoryLimit(await runtime.state(NAME)), 300 * MiB);
  });
});
