// Two berthd on one host (two BERTH_DIRs), each running an instance called `web` with a nic on a
// bridge of its own: the host ends of the veth pairs are named after each instance's
// volatile.uuid, not its name, and recorded as volatile.eth0.host_name while it runs (LXD's key),
// so neither daemon takes, or deletes, the other's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { hostVethName } from '../../libs/network/src/domain/names.js';
import { ifbNameFor } from '../../libs/network/src/domain/shaping.js';
import { daemonApi } from '../support/api.js';
import { runBerth } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';

const run = promisify(execFile);

interface Link {
  ifname: string;
  master?: string;
  flags: string[];
}
const links = async (): Promise<Link[]> => JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Link[];
const link = async (name: string) => (await links()).find((l) => l.ifname === name);

describe('two daemons each running an instance named web: host veths per instance, not per name', () => {
  const tag = process.pid % 100000;
  // Bridge names are host-wide: each daemon's network has its own.
  const nets = [`btva${tag}`, `btvb${tag}`];
  const daemons: Daemon[] = [];
  /** The host end of each daemon's web/eth0, as recorded when both ran. */
  const ends: string[] = [];
  /** The API helpers of daemon `i`, read at each call (a restart replaces the daemon). */
  const apis = nets.map((_, i) => daemonApi(() => daemons[i]!));
  const config = async (i: number, name = 'web') => (await daemons[i]!.api().get(`/1.0/instances/${name}`).expect(200)).body.metadata.config as Record<string, string>;
  const act = async (i: number, action: 'start' | 'stop', name = 'web') => apis[i]!.finish(await daemons[i]!.api().put(`/1.0/instances/${name}/state`).send({ action }));

  before(async () => {
    const image = await ensureDebianImage();
    for (const [i, net] of nets.entries()) {
      const d = await startDaemon();
      daemons.push(d);
      await apis[i]!.finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
      const created = await d.api().post('/1.0/networks').send({ name: net, config: { 'ipv4.address': 'auto' } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      await apis[i]!.finish(await d.api().post('/1.0/instances').send({ name: 'web', source: { type: 'image', alias: 'debian/12' }, devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } }));
    }
  });
  after(async () => {
    for (const [i, d] of daemons.entries()) {
      await apis[i]!.removeInstances('web', 'web2');
      await d.api().delete(`/1.0/networks/${nets[i]}`);
      await d.destroy();
    }
  });

  it('runs both; their host ends differ, each on its own bridge and named by volatile.eth0.host_name', async () => {
    for (const i of daemons.keys()) await act(i, 'start');
    const configs = await Promise.all(daemons.map((_, i) => config(i)));
    const uuids = configs.map((c) => c['volatile.uuid']!);
    assert.notEqual(uuids[0], uuids[1]);
    for (const [i, c] of configs.entries()) {
      const hostName = c['volatile.eth0.host_name']!;
      assert.match(hostName, /^bth[0-9a-f]{12}$/);
      assert.equal(hostName, hostVethName(uuids[i]!, 'eth0'));
      ends.push(hostName);
    }
    assert.notEqual(ends[0], ends[1]);
    const all = await links();
    for (const [i, d] of daemons.entries()) {
      const end = all.find((l) => l.ifname === ends[i]);
      assert.equal(end?.master, nets[i]);
      assert.ok(end!.flags.includes('UP'), JSON.stringify(end));
      // Nothing of the other daemon's instance is on this bridge.
      assert.deepEqual(all.filter((l) => l.master === nets[i]).map((l) => l.ifname), [ends[i]]);
      // The expanded config and the state (`lxc info`'s "Host interface") name it too.
      const view = (await d.api().get('/1.0/instances/web').expect(200)).body.metadata;
      assert.equal(view.expanded_config['volatile.eth0.host_name'], ends[i]);
      const state = (await d.api().get('/1.0/instances/web/state').expect(200)).body.metadata;
      assert.equal(state.network.eth0.host_name, ends[i]);
      assert.equal(state.network.eth0.hwaddr, view.config['volatile.eth0.hwaddr']);
      // And `berth info`, as `lxc info` does.
      const info = await runBerth(['info', 'web'], { env: d.env });
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, new RegExp(`\n    eth0:\n      Type: broadcast\n      State: UP\n      Host interface: ${ends[i]}\n      MAC address: ${state.network.eth0.hwaddr}\n`));
    }
  });

  it("stopping one removes its host end and volatile key, and leaves the other's up", async () => {
    await act(0, 'stop');
    const stopped = await config(0);
    assert.equal(stopped['volatile.eth0.host_name'], undefined);
    assert.match(stopped['volatile.uuid']!, /^[0-9a-f-]{36}$/);
    assert.equal(await link(ends[0]!), undefined);
    assert.equal(await link(ifbNameFor(ends[0]!)), undefined);
    const other = await link(ends[1]!);
    assert.equal(other?.master, nets[1]);
    assert.ok(other!.flags.includes('UP'), JSON.stringify(other));
    assert.equal((await config(1))['volatile.eth0.host_name'], ends[1]);
    assert.equal((await daemons[1]!.api().get('/1.0/instances/web/state').expect(200)).body.metadata.status, 'Running');
  });

  it('a daemon restarted after SIGKILL finds the running instance\'s host end, and removes it at stop', async () => {
    await daemons[1]!.kill('SIGKILL');
    daemons[1] = await daemons[1]!.restart();
    assert.equal((await config(1))['volatile.eth0.host_name'], ends[1]);
    assert.equal((await link(ends[1]!))?.master, nets[1]);
    await act(1, 'stop');
    assert.equal((await config(1))['volatile.eth0.host_name'], undefined);
    assert.equal(await link(ends[1]!), undefined);
  });

  it('a renamed instance keeps its uuid, and so the name of its host end', async () => {
    const uuid = (await config(0))['volatile.uuid'];
    await apis[0]!.finish(await daemons[0]!.api().post('/1.0/instances/web').send({ name: 'web2' }));
    await act(0, 'start', 'web2');
    const renamed = await config(0, 'web2');
    assert.equal(renamed['volatile.uuid'], uuid);
    assert.equal(renamed['volatile.eth0.host_name'], ends[0]);
    assert.equal((await link(ends[0]!))?.master, nets[0]);
    await act(0, 'stop', 'web2');
    assert.equal(await link(ends[0]!), undefined);
    assert.equal((await config(0, 'web2'))['volatile.eth0.host_name'], undefined);
  });
});
