// nics changed on running containers through a real berthd: hotplug with `berth config device
// add|remove`, bandwidth limits measured with iperf3 between two containers and changed live, a
// proxy device in NAT mode reaching a web server inside, and a host left as it was found.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { hostVethName } from '../../libs/network/src/domain/names.js';
import { forwardTableName, portForwardId } from '../../libs/network/src/domain/port-forward.js';
import { ifbNameFor } from '../../libs/network/src/domain/shaping.js';
import { daemonApi } from '../support/api.js';
import { berthRunner } from '../support/cli.js';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { freePort } from '../support/net.js';

const run = promisify(execFile);

interface Link {
  ifname: string;
  address?: string;
  master?: string;
}
const links = async (pid?: number): Promise<Link[]> =>
  JSON.parse((await run(pid === undefined ? 'ip' : 'nsenter', [...(pid === undefined ? [] : ['-t', String(pid), '-n', 'ip']), '-j', 'link', 'show'])).stdout) as Link[];
const linkNames = async () => (await links()).map((l) => l.ifname).sort();
const nftTables = async () => (await run('nft', ['list', 'tables'])).stdout.split('\n').filter(Boolean).sort();
/** The blocks of `nft list ruleset` for tables whose name contains one of `names`, counters blanked. */
const nftRules = async (names: readonly string[]) =>
  (await run('nft', ['list', 'ruleset'])).stdout
    .split(/\n(?=table )/)
    .filter((block) => names.some((n) => block.split('\n')[0]!.includes(n)))
    .map((block) => block.replace(/counter packets \d+ bytes \d+/g, 'counter').trimEnd())
    .sort();
/** Live dnsmasq processes started for networks under `dir`. */
const dnsmasqs = (dir: string) =>
  readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dnsmasq' && argv.includes(join(dir, 'networks')) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false; // gone meanwhile
      }
    });

describe('nics on running containers: hotplug, live bandwidth limits, NAT proxies', () => {
  let d: Daemon;
  const netName = `btl${process.pid % 100000}`;
  let prefix: string;
  let port: number;
  let host0: { links: string[]; tables: string[] };
  let natBefore: string[];
  let proxyTable = 'berth-proxy-?';
  const iperfServers: ChildProcess[] = [];
  const { ok } = berthRunner(() => d, { timeoutMs: 10 * 60 * 1000 });
  const { finish, removeInstances, address: addressOf } = daemonApi(() => d);
  const initOf = async (name: string) => (await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata.pid as number;
  const instance = async (name: string) => (await d.api().get(`/1.0/instances/${name}`).expect(200)).body.metadata;
  const nicRows = async (name: string) =>
    queryEmbedded(d.dir, 'SELECT q.device, q.ingress_bps, q.egress_bps, q.max_bps FROM nic_quotas q JOIN instances i ON i.id = q.instance_id WHERE i.name = $1 ORDER BY q.device', [name]);
  /** bit/s received by an iperf3 server in c1's network namespace from a 3 s send out of c2's. */
  const measure = async (server: string): Promise<number> => {
    const client = await initOf('c2');
    let last: unknown;
    for (let i = 0; i < 50; i++) {
      try {
        const { stdout } = await run('nsenter', ['-t', String(client), '-n', 'iperf3', '-c', server, '-p', '5201', '-t', '3', '-J'], { timeout: 30_000 });
        return (JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
      } catch (err) {
        last = err; // the server may not listen yet
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw last;
  };

  before(async () => {
    host0 = { links: await linkNames(), tables: await nftTables() };
    const image = await ensureDebianImage();
    d = await startDaemon();
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
    const created = await d.api().post('/1.0/networks').send({ name: netName, config: { 'ipv4.address': 'auto' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const gateway: string = (await d.api().get(`/1.0/networks/${netName}`).expect(200)).body.metadata.config['ipv4.address'];
    prefix = gateway.split('.').slice(0, 3).join('.');
    port = await freePort();
  });
  after(async () => {
    for (const child of iperfServers) child.kill('SIGKILL');
    await removeInstances('c1', 'c2');
    await d.api().delete(`/1.0/networks/${netName}`);
    await d.destroy();
  });

  it('refuses bad nic and proxy input with a 400 naming the key, recording nothing', async () => {
    const refused = async (devices: Record<string, Record<string, string>>, error: string) => {
      const res = await d.api().post('/1.0/instances').send({ name: 'bad', source: { type: 'image', alias: 'debian/12' }, devices });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error, error);
    };
    const nic = { type: 'nic', network: netName, name: 'eth0' };
    await refused({ eth0: { ...nic, hwaddr: '00:00:00:00:00:00' } }, 'Invalid devices["eth0"]["hwaddr"]: the all-zeros address is not a valid interface address');
    await refused({ eth0: { ...nic, 'limits.egress': '20 parsecs' } }, 'Invalid devices["eth0"]["limits.egress"]: "20 parsecs" is not a bit rate like 10Mbit');
    await refused({ eth0: { ...nic, 'limits.max': '5Mbyte' } }, 'Invalid devices["eth0"]["limits.max"]: unknown unit "Mbyte" (use bit, kbit, Mbit, Gbit, Tbit, Pbit or Kibit, Mibit, Gibit, Tibit, Pibit)');
    await refused({ eth0: { ...nic, mtu: '9' } }, 'Invalid devices["eth0"]["mtu"]: "9" is not an MTU from 68 to 65535');
    await refused({ eth0: { ...nic, 'ipv4.address': `${prefix}.300` } }, 'Invalid devices["eth0"]["ipv4.address"]: octet 300 is greater than 255');
    const malformed = await d.api().post('/1.0/instances').send({ name: 'bad', source: { type: 'image', alias: 'debian/12' }, devices: { p: { type: 'proxy', listen: 'tcp:127.0.0.1:http', connect: 'tcp:127.0.0.1:80' } } });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.error, /^Invalid devices\["p"\]\["listen"\]: /);
    await d.api().get('/1.0/instances/bad').expect(404);
    assert.deepEqual(await queryEmbedded(d.dir, 'SELECT * FROM nic_quotas'), []);
  });

  it('publishes a web server inside on a host port through kernel NAT (nat=true) to the nic\'s static address', async () => {
    natBefore = await nftRules([netName, 'berth-proxy-']);
    const fixed = `${prefix}.10`;
    await finish(
      await d.api().post('/1.0/instances').send({
        name: 'c1',
        source: { type: 'image', alias: 'debian/12' },
        devices: {
          eth0: { type: 'nic', network: netName, name: 'eth0', 'ipv4.address': fixed },
          http: { type: 'proxy', listen: `tcp:127.0.0.1:${port}`, connect: `tcp:${fixed}:80`, nat: 'true' },
        },
      }),
    );
    await ok('start', 'c1');
    assert.equal(await addressOf('c1', 'eth0'), fixed);
    await ok('exec', 'c1', '--', 'systemctl', 'is-system-running', '--wait').catch(() => undefined);
    // A one-line HTTP/1.0 server: read the request up to its blank line, answer, close. systemd
    // expands $VAR in the command line it runs: "$$" is the shell's "$".
    await ok('exec', 'c1', '--', 'systemd-run', '--unit=web80', '--', 'systemd-socket-activate', '--inetd', '--accept', '-l', '80', 'sh', '-c',
      'while IFS= read -r l && [ "$${#l}" -gt 1 ]; do :; done; b="hello from $$(hostname)"; printf "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: %d\\r\\n\\r\\n%s\\n" $$(($${#b} + 1)) "$$b"');
    let body = '';
    for (let i = 0; i < 100 && body !== 'hello from c1\n'; i++) {
      body = (await run('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${port}/`]).catch(() => ({ stdout: '' }))).stdout;
      if (body !== 'hello from c1\n') await new Promise((r) => setTimeout(r, 200));
    }
    const direct = await run('nsenter', ['-t', String(await initOf('c1')), '-n', 'curl', '-sS', '--max-time', '5', `http://${fixed}/`]).catch((e: Error) => ({ stdout: e.message }));
    const verbose = await run('curl', ['-v', '--max-time', '5', `http://127.0.0.1:${port}/`]).catch((e: Error) => ({ stdout: e.message }));
    assert.equal(body, 'hello from c1\n', `inside: ${direct.stdout}; through the host port: ${verbose.stdout}; ${(await nftRules(['berth-proxy-'])).join('')}`);
    // The kernel forwards it: a table of DNAT rules, and no relay process listening on the port.
    proxyTable = forwardTableName(portForwardId(d.dir, 'c1', 'http'));
    const rules = await nftRules([proxyTable]);
    assert.equal(rules.length, 1);
    assert.match(rules[0]!, new RegExp(`dnat to ${fixed.replace(/\./g, '\\.')}:80`));
    assert.equal((await run('ss', ['-H', '-lnt', `sport = :${port}`])).stdout.trim(), '');
  });

  it('hotplugs a nic into the running container with berth config device add, and unplugs it with remove', async () => {
    const pid = await initOf('c1');
    // The image has networkd take eth0 only; eth1 is taken as soon as it appears.
    await ok('exec', 'c1', '--', 'sh', '-c', 'printf "[Match]\\nName=eth1\\n\\n[Network]\\nDHCP=ipv4\\n" >/etc/systemd/network/eth1.network && networkctl reload');
    const fixed = `${prefix}.20`;
    assert.equal(await ok('config', 'device', 'add', 'c1', 'lan2', 'nic', `network=${netName}`, 'name=eth1', `ipv4.address=${fixed}`), 'Device lan2 added to c1\n');
    const mac = (await instance('c1')).config['volatile.lan2.hwaddr'] as string;
    assert.match(mac, /^00:16:3e(:[0-9a-f]{2}){3}$/);
    const inside = (await links(pid)).find((l) => l.ifname === 'eth1');
    assert.equal(inside?.address, mac);
    // The host end is recorded while plugged, named after the instance's uuid.
    const plugged = (await instance('c1')).config;
    const hostName = plugged['volatile.lan2.host_name'] as string;
    assert.equal(hostName, hostVethName(plugged['volatile.uuid'], 'lan2'));
    const hostEnd = (await links()).find((l) => l.ifname === hostName);
    assert.equal(hostEnd?.master, netName);
    // dnsmasq knows the new nic's MAC: the static reservation is what it leases.
    assert.equal(await addressOf('c1', 'eth1'), fixed);
    assert.equal((await run('ping', ['-c', '1', '-W', '3', fixed])).stdout.includes('1 received'), true);

    assert.equal(await ok('config', 'device', 'remove', 'c1', 'lan2'), 'Device lan2 removed from c1\n');
    assert.equal((await links(pid)).some((l) => l.ifname === 'eth1'), false);
    assert.equal((await linkNames()).includes(hostName), false);
    assert.equal((await instance('c1')).config['volatile.lan2.host_name'], undefined);
    assert.equal(typeof (await instance('c1')).config['volatile.eth0.host_name'], 'string');
    const hosts = await run('ls', [join(d.dir, 'networks', netName, 'hosts')]).catch(() => ({ stdout: '' }));
    assert.equal(hosts.stdout.includes(mac.replaceAll(':', '')), false);
    assert.equal((await links(pid)).some((l) => l.ifname === 'eth0'), true);
  });

  it('refuses a nic that cannot be plugged into the running container, changing neither the record nor the host', async () => {
    const pid = await initOf('c1');
    const devicesBefore = (await instance('c1')).devices;
    const linksBefore = await linkNames();
    // `lo` exists in every network namespace: the container end cannot take its name.
    const res = await d.api().patch('/1.0/instances/c1').send({ devices: { lo2: { type: 'nic', network: netName, name: 'lo' } } });
    assert.notEqual(res.status, 200);
    assert.equal(res.body.error, 'Interface lo already exists');
    assert.deepEqual((await instance('c1')).devices, devicesBefore);
    assert.equal((await instance('c1')).config['volatile.lo2.host_name'], undefined);
    assert.deepEqual(await linkNames(), linksBefore);
    assert.deepEqual((await links(pid)).map((l) => l.ifname).sort(), ['eth0', 'lo']);
  });

  it('limits what a container sends (limits.egress), changes the limit live, persists it as a typed row, and removes it', async () => {
    await finish(
      await d.api().post('/1.0/instances').send({
        name: 'c2',
        source: { type: 'image', alias: 'debian/12' },
        devices: { eth0: { type: 'nic', network: netName, name: 'eth0', 'limits.egress': '20Mbit' } },
      }),
    );
    assert.deepEqual(await nicRows('c2'), [{ device: 'eth0', ingress_bps: null, egress_bps: '20000000', max_bps: null }]);
    await ok('start', 'c2');
    await addressOf('c2', 'eth0');
    const server = `${prefix}.10`;
    const iperf = spawn('nsenter', ['-t', String(await initOf('c1')), '-n', 'iperf3', '-s', '-B', server, '-p', '5201'], { stdio: 'ignore' });
    iperfServers.push(iperf);

    const at20 = await measure(server);
    await d.api().patch('/1.0/instances/c2').send({ devices: { eth0: { type: 'nic', network: netName, name: 'eth0', 'limits.egress': '50Mbit' } } }).expect(200);
    assert.deepEqual(await nicRows('c2'), [{ device: 'eth0', ingress_bps: null, egress_bps: '50000000', max_bps: null }]);
    const at50 = await measure(server);
    // The same nic, changed in place: still plugged, same MAC.
    const c2 = await instance('c2');
    assert.equal((await links(await initOf('c2'))).find((l) => l.ifname === 'eth0')?.address, c2.config['volatile.eth0.hwaddr']);
    await d.api().patch('/1.0/instances/c2').send({ devices: { eth0: { type: 'nic', network: netName, name: 'eth0' } } }).expect(200);
    assert.deepEqual(await nicRows('c2'), []);
    const unlimited = await measure(server);
    console.log(`measured bit/s: ${JSON.stringify({ at20, at50, unlimited })}`);
    assert.ok(at20 > 10e6 && at20 < 30e6, `limits.egress=20Mbit: ${at20}`);
    assert.ok(at50 > 30e6 && at50 < 65e6, `limits.egress=50Mbit: ${at50}`);
    assert.ok(unlimited > 100e6, `no limit: ${unlimited}`);
  });

  it('removes the NAT rules when the instance stops', async () => {
    for (const child of iperfServers.splice(0)) child.kill('SIGKILL');
    await ok('stop', 'c1', '--force');
    assert.deepEqual(await nftRules([netName, 'berth-proxy-']), natBefore);
    assert.equal((await run('curl', ['-sS', '--max-time', '2', `http://127.0.0.1:${port}/`]).catch((e: { code: number }) => ({ stdout: `exit ${e.code}` }))).stdout.startsWith('exit'), true);
  });

  it('deleting everything leaves no bridge, veth, nft table or dnsmasq of the test', async () => {
    await ok('stop', 'c2', '--force');
    // Host ends are named after each instance's uuid, which outlives a stop (not a delete).
    const uuids = new Map<string, string>();
    for (const n of ['c1', 'c2']) uuids.set(n, (await instance(n)).config['volatile.uuid']);
    for (const n of ['c1', 'c2']) await ok('delete', n);
    await d.api().delete(`/1.0/networks/${netName}`).expect(200);
    // Other daemons may be at work on this host: compare what this test could have made.
    const hostEnds = ['c1/eth0', 'c1/lan2', 'c1/lo2', 'c2/eth0'].map((p) => hostVethName(uuids.get(p.split('/')[0]!)!, p.split('/')[1]!));
    const ours = (names: string[]) => names.filter((n) => n === netName || hostEnds.includes(n) || hostEnds.some((h) => n === ifbNameFor(h)) || n.includes(netName) || n.includes(proxyTable));
    assert.deepEqual(ours(await linkNames()), ours(host0.links));
    assert.deepEqual(ours(await nftTables()), ours(host0.tables));
    assert.deepEqual(dnsmasqs(d.dir), []);
    assert.deepEqual(await queryEmbedded(d.dir, 'SELECT * FROM nic_quotas'), []);
  });
});
