import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';

const run = promisify(execFile);
const links = async () => (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
const nftTables = async () => (await run('nft', ['list', 'tables'])).stdout.split('\n').filter(Boolean).sort();
/** Live (not zombie) dnsmasq processes whose command line mentions `pattern`. */
const dnsmasqs = async (pattern: string) =>
  (await run('pgrep', ['-f', pattern]).catch(() => ({ stdout: '' }))).stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dnsmasq' && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    });

describe('networks API (a real bridge, dnsmasq and NAT)', () => {
  let d: Daemon;
  const name = `bte${process.pid % 100000}`;
  let before0: { links: string[]; tables: string[] };
  const rows = () => queryEmbedded(d.dir, 'SELECT name, config FROM networks ORDER BY name');

  before(async () => {
    d = await startDaemon();
    before0 = { links: await links(), tables: await nftTables() };
  });
  after(async () => {
    await d.api().delete(`/1.0/networks/${name}`);
    await d.destroy();
  });

  it('creates a managed bridge with a subnet chosen and stored, dnsmasq and NAT', async () => {
    await d.api().post('/1.0/networks').send({ name, description: 'test bridge', config: { 'ipv4.address': 'auto' } }).expect(200);
    const res = await d.api().get(`/1.0/networks/${name}`).expect(200);
    const n = res.body.metadata;
    assert.equal(n.status, 'Created');
    assert.equal(n.managed, true);
    assert.match(n.config['ipv4.address'], /^10\.\d+\.\d+\.1\/24$/);
    assert.equal(n.config['ipv4.nat'], 'true');
    assert.ok((await links()).includes(name));
    assert.ok((await nftTables()).some((t) => t.includes(`berth-${name}`)));
    const [row] = await rows();
    assert.equal((row.config as Record<string, string>)['ipv4.address'], n.config['ipv4.address']);
    assert.equal((await dnsmasqs(`${d.dir}/networks/${name}/`)).length, 1);
    assert.deepEqual((await d.api().get(`/1.0/networks/${name}/leases`).expect(200)).body.metadata, []);
    assert.deepEqual((await d.api().get('/1.0/networks').expect(200)).body.metadata, [`/1.0/networks/${name}`]);
  });

  it('refuses bad input with 400/409 and changes nothing on the host or in the database', async () => {
    const snapshot = async () => ({ links: await links(), tables: await nftTables(), rows: await rows() });
    const before = await snapshot();
    const cases: Array<[object, number, RegExp]> = [
      [{ name: 'bte-bad1', config: { 'ipv4.address': '10.0.0.1/33' } }, 400, /^Invalid config\["ipv4.address"\]: /],
      [{ name: 'bte-bad2', config: { 'ipv4.address': '10.0.0.0/24' } }, 400, /^Invalid config\["ipv4.address"\]: /],
      [{ name: 'this-name-is-too-long-for-linux', config: {} }, 400, /^Invalid name: /],
      [{ name: 'bte-bad3', config: { 'ipv4.dhcp.ranges': 'x' } }, 400, /^Invalid config\["ipv4.dhcp.ranges"\]/],
      [{ name: 'bte-bad4', config: { 'bogus.key': '1' } }, 400, /^Invalid config\["bogus.key"\]/],
      [{ name, config: {} }, 409, /^Network "bte\d+" already exists$/],
    ];
    for (const [payload, status, message] of cases) {
      const res = await d.api().post('/1.0/networks').send(payload);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.body.error, message);
    }
    assert.deepEqual(await snapshot(), before);
  });

  it('refuses to delete a network in use, then deletes it leaving nothing on the host', async () => {
    await d.api().post('/1.0/profiles').send({ name: 'netuser', devices: { eth0: { type: 'nic', network: name, name: 'eth0' } } }).expect(200);
    const created = await d.api().post('/1.0/instances').send({ name: 'n1', profiles: ['default', 'netuser'] }).expect(202);
    await d.api().get(`${created.body.operation}/wait`).expect(200);
    const refused = await d.api().delete(`/1.0/networks/${name}`);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, `Network "${name}" is currently in use by: /1.0/instances/n1`);
    const del = await d.api().delete('/1.0/instances/n1').expect(202);
    await d.api().get(`${del.body.operation}/wait`).expect(200);
    await d.api().delete(`/1.0/networks/${name}`).expect(200);
    assert.deepEqual(await links(), before0.links);
    assert.deepEqual(await nftTables(), before0.tables);
    assert.deepEqual(await rows(), []);
    assert.deepEqual(await dnsmasqs(`${d.dir}/networks/${name}/`), []);
  });
});

describe('the default network of a first start', () => {
  let d: Daemon;
  const name = `btd${process.pid % 100000}`;

  before(async () => {
    d = await startDaemon({ env: { BERTH_DEFAULT_NETWORK: name } });
  });
  after(async () => {
    await d.api().delete(`/1.0/networks/${name}`);
    await d.destroy();
  });

  it('creates the bridge and gives the default profile eth0 on it, once', async () => {
    const net = await d.api().get(`/1.0/networks/${name}`).expect(200);
    assert.equal(net.body.metadata.status, 'Created');
    assert.ok((await links()).includes(name));
    const profile = await d.api().get('/1.0/profiles/default').expect(200);
    assert.deepEqual(profile.body.metadata.devices.eth0, { type: 'nic', network: name, name: 'eth0' });
    await d.api().put('/1.0/profiles/default').send({ description: profile.body.metadata.description, config: {}, devices: {} }).expect(200);
    await d.api().delete(`/1.0/networks/${name}`).expect(200);
    assert.equal(await d.stop(), 0);
    d = await d.restart();
    await d.api().get(`/1.0/networks/${name}`).expect(404);
    assert.equal((await links()).includes(name), false);
    assert.deepEqual((await d.api().get('/1.0/profiles/default').expect(200)).body.metadata.devices, {});
  });
});
