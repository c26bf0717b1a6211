import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { hostVethName } from '../../libs/network/src/domain/names.js';
import { ifbNameFor } from '../../libs/network/src/domain/shaping.js';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';

const run = promisify(execFile);
const links = async () => (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>).map((l) => l.ifname).sort();

describe('instances on a managed network: DHCP, names, reachability', () => {
  let d: Daemon;
  const net = `btn${process.pid % 100000}`;
  const { finish, removeInstances, exec, address } = daemonApi(() => d);

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
    await d.api().post('/1.0/networks').send({ name: net, config: { 'ipv4.address': 'auto' } }).expect(200);
    await d.api().post('/1.0/profiles').send({ name: 'lan', devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } }).expect(200);
  });
  after(async () => {
    await removeInstances('c1', 'c2', 'c3');
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  it('refuses a nic on a network that does not exist, recording nothing', async () => {
    const res = await d.api().post('/1.0/instances').send({ name: 'x1', source: { type: 'image', alias: 'debian/12' }, devices: { eth1: { type: 'nic', network: 'nonet' } } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'Invalid devices["eth1"]["network"]: network "nonet" does not exist');
    await d.api().get('/1.0/instances/x1').expect(404);
  });

  it('gives two containers addresses by DHCP; they reach each other by address and by <name>.berth', async () => {
    for (const n of ['c1', 'c2']) {
      await finish(await d.api().post('/1.0/instances').send({ name: n, source: { type: 'image', alias: 'debian/12' }, profiles: ['default', 'lan'] }));
      await finish(await d.api().put(`/1.0/instances/${n}/state`).send({ action: 'start' }));
    }
    const [a1, a2] = [await address('c1'), await address('c2')];
    const gateway = (await d.api().get(`/1.0/networks/${net}`).expect(200)).body.metadata.config['ipv4.address'].split('/')[0];
    for (const a of [a1, a2]) assert.equal(a.split('.').slice(0, 3).join('.'), gateway.split('.').slice(0, 3).join('.'));
    assert.notEqual(a1, a2);
    assert.equal((await exec('c1', ['ping', '-c', '1', '-W', '3', a2])).code, 0);
    const byName = await exec('c1', ['ping', '-c', '1', '-W', '3', 'c2.berth']);
    assert.equal(byName.code, 0, byName.stdout);
    assert.match(byName.stdout, new RegExp(`\\(${a2.replace(/\./g, '\\.')}\\)`));
    const leases = (await d.api().get(`/1.0/networks/${net}/leases`).expect(200)).body.metadata as Array<{ hostname: string; address: string }>;
    assert.deepEqual(leases.map((l) => l.address).sort(), [a1, a2].sort());
  });

  it('honours a static ipv4.address, and refuses a second instance asking for it, naming the holder', async () => {
    const gateway: string = (await d.api().get(`/1.0/networks/${net}`).expect(200)).body.metadata.config['ipv4.address'].split('/')[0];
    const fixed = `${gateway.split('.').slice(0, 3).join('.')}.200`;
    const nic = (address: string) => ({ eth0: { type: 'nic', network: net, name: 'eth0', 'ipv4.address': address } });
    await finish(await d.api().post('/1.0/instances').send({ name: 'c3', source: { type: 'image', alias: 'debian/12' }, devices: nic(fixed) }));
    await finish(await d.api().put('/1.0/instances/c3/state').send({ action: 'start' }));
    assert.equal(await address('c3'), fixed);
    const clash = await d.api().post('/1.0/instances').send({ name: 'c4', source: { type: 'image', alias: 'debian/12' }, devices: nic(fixed) });
    assert.equal(clash.status, 400);
    assert.equal(clash.body.error, `Invalid devices["eth0"]["ipv4.address"]: ${fixed} is already reserved by instance "c3"`);
    const outside = await d.api().post('/1.0/instances').send({ name: 'c4', source: { type: 'image', alias: 'debian/12' }, devices: nic('192.0.2.77') });
    assert.equal(outside.status, 400);
    assert.match(outside.body.error, /^Invalid devices\["eth0"\]\["ipv4.address"\]: 192\.0\.2\.77 is outside /);
    await d.api().get('/1.0/instances/c4').expect(404);
    await finish(await d.api().put('/1.0/instances/c3/state').send({ action: 'stop', force: true }));
  });

  it('keeps the MAC (and so the address) across a restart, and leaves no veth after a stop', async () => {
    const before = (await d.api().get('/1.0/instances/c1').expect(200)).body.metadata.config['volatile.eth0.hwaddr'];
    assert.match(before, /^00:16:3e(:[0-9a-f]{2}){3}$/);
    const a1 = await address('c1');
    await finish(await d.api().put('/1.0/instances/c1/state').send({ action: 'restart' }));
    assert.equal((await d.api().get('/1.0/instances/c1').expect(200)).body.metadata.config['volatile.eth0.hwaddr'], before);
    assert.equal(await address('c1'), a1);
    // The host ends, as recorded while the instances run: named after each one's volatile.uuid.
    const ends: string[] = [];
    for (const n of ['c1', 'c2']) {
      const config = (await d.api().get(`/1.0/instances/${n}`).expect(200)).body.metadata.config;
      assert.equal(config['volatile.eth0.host_name'], hostVethName(config['volatile.uuid'], 'eth0'));
      ends.push(config['volatile.eth0.host_name']);
    }
    for (const e of ends) assert.match(e, /^bth[0-9a-f]{12}$/);
    assert.deepEqual((await links()).filter((l) => ends.includes(l)), [...ends].sort());
    for (const n of ['c1', 'c2']) await finish(await d.api().put(`/1.0/instances/${n}/state`).send({ action: 'stop' }));
    for (const n of ['c1', 'c2']) assert.equal((await d.api().get(`/1.0/instances/${n}`).expect(200)).body.metadata.config['volatile.eth0.host_name'], undefined);
    // Only this test's links: other daemons on the host may plug and unplug their own meanwhile.
    const ours = new Set(ends.flatMap((e) => [e, ifbNameFor(e)]));
    assert.deepEqual((await links()).filter((l) => ours.has(l)), []);
  });
});
