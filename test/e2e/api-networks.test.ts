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

describe('changing a network through the API (PUT, PATCH, ETag, rename, state)', () => {
  let d: Daemon;
  const name = `btu${process.pid % 100000}`;
  const renamed = `btr${process.pid % 100000}`;
  const other = `bto${process.pid % 100000}`;
  const row = async (n: string) => (await queryEmbedded(d.dir, 'SELECT description, config FROM networks WHERE name = $1', [n]))[0];
  const addresses = async (dev: string) =>
    (JSON.parse((await run('ip', ['-j', '-4', 'addr', 'show', 'dev', dev])).stdout) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>)[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  const etagOf = async (n: string) => (await d.api().get(`/1.0/networks/${n}`).expect(200)).headers.etag as string;

  before(async () => {
    d = await startDaemon();
    await d.api().post('/1.0/networks').send({ name, description: 'before', config: { 'ipv4.address': 'auto' } }).expect(200);
  });
  after(async () => {
    for (const n of [name, renamed, other]) await d.api().delete(`/1.0/networks/${n}`);
    await d.destroy();
  });

  it('PATCH merges keys and applies them live; the ETag changes with them; a stale If-Match is a 412 that changes nothing', async () => {
    const etag = await etagOf(name);
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    await d.api().patch(`/1.0/networks/${name}`).set('If-Match', etag).send({ config: { 'ipv4.nat': 'false', 'bridge.mtu': '1420' } }).expect(200);
    assert.equal((await nftTables()).some((t) => t.includes(`berth-${name}`)), false, 'NAT is off on the host');
    const [link] = JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', name])).stdout) as Array<{ mtu: number }>;
    assert.equal(link!.mtu, 1420);
    const stored = await row(name);
    assert.equal(stored!.description, 'before', 'PATCH keeps what it does not name');
    assert.equal((stored!.config as Record<string, string>)['ipv4.nat'], 'false');
    assert.match((stored!.config as Record<string, string>)['ipv4.address']!, /^10\.\d+\.\d+\.1\/24$/);
    const fresh = await etagOf(name);
    assert.notEqual(fresh, etag);

    const stale = await d.api().put(`/1.0/networks/${name}`).set('If-Match', etag).send({ description: 'lost', config: { 'ipv4.address': 'auto' } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error, `Network "${name}" was changed since it was read (If-Match does not match the current ETag)`);
    assert.deepEqual(await row(name), stored);
    assert.equal(await etagOf(name), fresh);
  });

  it('PUT replaces the config: a new address re-addresses the bridge, NAT and dnsmasq', async () => {
    const current = (await row(name))!.config as Record<string, string>;
    const [, b, c] = current['ipv4.address']!.split('.').map(Number);
    // A neighbouring /24 of the one chosen: checked free by the daemon, which would answer 400 otherwise.
    const address = `10.${b}.${(c! + 1) % 256}.1/24`;
    const before_ = await dnsmasqs(`${d.dir}/networks/${name}/`);
    const res = await d.api().put(`/1.0/networks/${name}`).send({ description: 'after', config: { 'ipv4.address': address, 'ipv4.nat': 'true', 'dns.domain': 'lab' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await addresses(name), [address]);
    assert.match((await run('nft', ['list', 'table', 'ip', `berth-${name}`])).stdout, new RegExp(`ip saddr 10\\.${b}\\.${(c! + 1) % 256}\\.0/24`));
    const conf = readFileSync(`${d.dir}/networks/${name}/dnsmasq.conf`, 'utf8');
    assert.match(conf, new RegExp(`^listen-address=10\\.${b}\\.${(c! + 1) % 256}\\.1$`, 'm'));
    assert.match(conf, /^domain=lab$/m);
    const after_ = await dnsmasqs(`${d.dir}/networks/${name}/`);
    assert.equal(after_.length, 1);
    assert.notDeepEqual(after_, before_, 'dnsmasq was restarted');
    assert.deepEqual(await row(name), { description: 'after', config: { 'ipv4.address': address, 'ipv4.nat': 'true', 'dns.domain': 'lab' } });
    const shown = (await d.api().get(`/1.0/networks/${name}`).expect(200)).body.metadata;
    assert.equal(shown.status, 'Created');
    assert.equal(shown.config['bridge.mtu'], undefined);
    const [link] = JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', name])).stdout) as Array<{ mtu: number }>;
    assert.equal(link!.mtu, 1500, 'an unset bridge.mtu is the default again');
  });

  it('refuses bad changes with a 400 naming the key, and changes nothing on the host or in the database', async () => {
    const mine = (names: string[]) => names.filter((n) => n.includes(name));
    const snapshot = async () => ({ links: mine(await links()), tables: mine(await nftTables()), row: await row(name), addresses: await addresses(name), dnsmasq: await dnsmasqs(`${d.dir}/networks/${name}/`) });
    const before_ = await snapshot();
    const cases: Array<[string, object, RegExp]> = [
      ['put', { config: { 'ipv4.address': '10.0.0.1/33' } }, /^Invalid config\["ipv4.address"\]: prefix length \/33 is greater than \/32$/],
      ['patch', { config: { 'bridge.mtu': 'big' } }, /^Invalid config\["bridge.mtu"\]: must be an integer from 68 to 65535$/],
      ['patch', { config: { 'bogus.key': '1' } }, /^Invalid config\["bogus.key"\]: unknown network configuration key$/],
      ['patch', { config: { 'ipv4.dhcp.ranges': '192.168.250.10-192.168.250.20' } }, /^Invalid config\["ipv4.dhcp.ranges"\]: 192\.168\.250\.10 is outside /],
      ['put', { config: { 'ipv4.nat': 'true' } }, /^Invalid config\["ipv4.address"\]: is required/],
      ['patch', { config: { 'ipv4.address': '192.0.2.1/24' } }, /^Subnet 192\.0\.2\.0\/24 overlaps route 192\.0\.2\.0\/24 dev eth0/],
      ['patch', { description: 42 }, /^Invalid description/],
      ['patch', { colour: 'blue' }, /^Invalid colour: unknown field$/],
    ];
    for (const [method, payload, message] of cases) {
      const res = await (method === 'put' ? d.api().put(`/1.0/networks/${name}`) : d.api().patch(`/1.0/networks/${name}`)).send(payload);
      assert.equal(res.status, 400, `${JSON.stringify(payload)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, message);
    }
    assert.deepEqual(await snapshot(), before_);
    assert.equal((await d.api().put('/1.0/networks/nope').send({ config: {} })).status, 404);
  });

  it('GET /state reports the bridge as LXD does, with counters from sysfs', async () => {
    const state = (await d.api().get(`/1.0/networks/${name}/state`).expect(200)).body.metadata;
    const [link] = JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', name])).stdout) as Array<{ address: string }>;
    assert.deepEqual(Object.keys(state).sort(), ['addresses', 'bridge', 'counters', 'hwaddr', 'mtu', 'state', 'type']);
    assert.deepEqual(state.addresses.filter((a: { family: string }) => a.family === 'inet'), [{ family: 'inet', address: (await addresses(name))[0]!.split('/')[0], netmask: '24', scope: 'global' }]);
    assert.equal(state.hwaddr, link!.address);
    assert.equal(state.mtu, 1500);
    assert.equal(state.state, 'up');
    assert.equal(state.type, 'broadcast');
    assert.deepEqual(Object.keys(state.counters).sort(), ['bytes_received', 'bytes_sent', 'packets_received', 'packets_sent']);
    assert.equal(state.counters.bytes_sent, Number(readFileSync(`/sys/class/net/${name}/statistics/tx_bytes`, 'utf8').trim()));
    assert.deepEqual(state.bridge.upper_devices, []);
    assert.equal((await d.api().get('/1.0/networks/nope/state')).status, 404);
  });

  it('POST renames: refused while a profile uses it (400) or onto a taken name (409), then renames the bridge, dnsmasq, NAT and row', async () => {
    await d.api().post('/1.0/profiles').send({ name: 'uses', devices: { eth0: { type: 'nic', network: name, name: 'eth0' } } }).expect(200);
    const inUse = await d.api().post(`/1.0/networks/${name}`).send({ name: renamed });
    assert.equal(inUse.status, 400);
    assert.equal(inUse.body.error, `Network "${name}" is currently in use by: /1.0/profiles/uses`);
    await d.api().delete('/1.0/profiles/uses').expect(200);

    await d.api().post('/1.0/networks').send({ name: other, config: { 'ipv4.address': 'auto' } }).expect(200);
    const taken = await d.api().post(`/1.0/networks/${name}`).send({ name: other });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error, `Network "${other}" already exists`);
    const bad = await d.api().post(`/1.0/networks/${name}`).send({ name: 'no/slash' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'Invalid name: must not contain "/"');
    assert.equal((await d.api().post(`/1.0/networks/${name}`).send({})).body.error, 'Invalid name: a new network name is required');
    assert.ok((await links()).includes(name));

    const address = await addresses(name);
    await d.api().post(`/1.0/networks/${name}`).send({ name: renamed }).expect(200);
    await d.api().get(`/1.0/networks/${name}`).expect(404);
    const shown = (await d.api().get(`/1.0/networks/${renamed}`).expect(200)).body.metadata;
    assert.equal(shown.status, 'Created');
    assert.equal((await links()).includes(name), false);
    assert.deepEqual(await addresses(renamed), address);
    assert.ok((await nftTables()).some((t) => t.endsWith(`berth-${renamed}`)));
    assert.equal((await nftTables()).some((t) => t.endsWith(`berth-${name}`)), false);
    assert.deepEqual(await dnsmasqs(`${d.dir}/networks/${name}/`), []);
    assert.equal((await dnsmasqs(`${d.dir}/networks/${renamed}/`)).length, 1);
    assert.deepEqual((await queryEmbedded(d.dir, 'SELECT name FROM networks ORDER BY name')).map((r) => r.name), [other, renamed].sort());
  });
});
