// LXD's own client (Debian's lxd-client, LXD 5.0.2) drives Berth's managed bridges with every
// `lxc network` verb, against a real daemon, real bridges, dnsmasq, NAT and a real container.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcEnv, lxcRunner } from '../support/lxc.js';

const run = promisify(execFile);
const links = async () => (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string; mtu: number }>);
const link = async (name: string) => (await links()).find((l) => l.ifname === name);
const nftTables = async () => (await run('nft', ['list', 'tables'])).stdout.split('\n').filter(Boolean);
const hasNat = async (net: string) => (await nftTables()).some((t) => t.endsWith(` berth-${net}`));
/** The ports of a bridge (its veth host ends), from sysfs. */
const ports = (bridge: string) => readdirSync(`/sys/class/net/${bridge}/brif`).sort();

describe("LXD's lxc network verbs against berthd (a real bridge, dnsmasq, NAT and container)", () => {
  let d: Daemon;
  const lxc = lxcRunner(() => d, 180_000);
  const net = `lxn${process.pid % 100000}`;
  const renamed = `${net}r`;
  const csv = async (...args: string[]) => (await lxc(...args, '--format', 'csv')).stdout;
  const lxcWithInput = (input: string, ...args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('lxc', args, { env: lxcEnv(d) });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      child.on('exit', (code) => resolve({ code, stderr }));
      child.stdin.end(input);
    });
  const refused = (pattern: RegExp) => (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, pattern);
    return true;
  };
  const rows = async () => (await queryEmbedded(d.dir, 'SELECT name, description, config FROM networks ORDER BY name')) as Array<{ name: string; description: string; config: Record<string, string> }>;
  const interfacesIn = async (instance: string) => (await lxc('exec', instance, '--', 'ls', '/sys/class/net')).stdout.split(/\s+/).filter(Boolean).sort();

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
  });
  after(async () => {
    await lxc('delete', '--force', 'c1').catch(() => undefined);
    for (const n of [net, renamed]) await d.api().delete(`/1.0/networks/${n}`);
    await d.destroy();
  });

  it('lxc network create makes a managed bridge; other types are refused naming type, leaving nothing', async () => {
    await assert.rejects(lxc('network', 'create', net, '--type', 'macvlan'), refused(/Invalid type: network type "macvlan" is not supported: Berth manages bridge networks only/));
    assert.equal(await link(net), undefined);
    assert.deepEqual(await rows(), []);

    const { stdout } = await lxc('network', 'create', net, 'dns.domain=lxn.test');
    assert.equal(stdout, `Network ${net} created\n`);
    const bridge = await link(net);
    assert.ok(bridge, 'the bridge exists on the host');
    assert.ok(await hasNat(net), 'ipv4.nat defaults to true: the NAT table exists');
    const [row] = await rows();
    assert.equal(row!.name, net);
    const address = row!.config['ipv4.address']!;
    assert.match(address, /^10\.\d+\.\d+\.1\/24$/);
    assert.equal(await csv('network', 'list'), `${net},bridge,YES,${address},,,0,CREATED\n`);
  });

  it('lxc network show and get print the network as LXD does', async () => {
    const shown = parse((await lxc('network', 'show', net)).stdout) as Record<string, unknown>;
    const [row] = await rows();
    assert.deepEqual(shown, {
      name: net,
      description: '',
      type: 'bridge',
      managed: true,
      status: 'Created',
      config: row!.config,
      used_by: [],
      locations: ['none'],
    });
    assert.equal((await lxc('network', 'get', net, 'dns.domain')).stdout, 'lxn.test\n');
  });

  it('lxc network set/unset apply live: ipv4.nat false really removes the NAT rules; a bad key is refused changing nothing', async () => {
    await lxc('network', 'set', net, 'ipv4.nat', 'false');
    assert.equal(await hasNat(net), false, 'the NAT table is gone');
    assert.equal((await lxc('network', 'get', net, 'ipv4.nat')).stdout, 'false\n');
    await lxc('network', 'set', net, 'ipv4.nat=true');
    assert.ok(await hasNat(net));
    await lxc('network', 'unset', net, 'ipv4.nat');
    assert.equal((await rows())[0]!.config['ipv4.nat'], undefined, 'the key is gone from the row');
    assert.equal(await hasNat(net), false, 'unset ipv4.nat is false, as in LXD');
    await lxc('network', 'set', net, 'ipv4.nat=true');

    const before = await rows();
    await assert.rejects(lxc('network', 'set', net, 'bogus.key=1'), refused(/Invalid config\["bogus\.key"\]: unknown network configuration key/));
    await assert.rejects(lxc('network', 'set', net, 'bridge.mtu=10'), refused(/Invalid config\["bridge\.mtu"\]: must be an integer from 68 to 65535/));
    assert.deepEqual(await rows(), before);
    assert.equal((await link(net))?.mtu, 1500);
  });

  it('lxc network edit takes YAML on stdin: the MTU really changes on the bridge', async () => {
    const address = (await rows())[0]!.config['ipv4.address'];
    const yaml = `description: edited\nconfig:\n  ipv4.address: ${address}\n  ipv4.nat: "true"\n  dns.domain: lxn.test\n  bridge.mtu: "1400"\n`;
    const edit = await lxcWithInput(yaml, 'network', 'edit', net);
    assert.equal(edit.code, 0, edit.stderr);
    assert.equal((await link(net))?.mtu, 1400);
    const [row] = await rows();
    assert.equal(row!.description, 'edited');
    assert.deepEqual(row!.config, { 'ipv4.address': address, 'ipv4.nat': 'true', 'dns.domain': 'lxn.test', 'bridge.mtu': '1400' });
  });

  it("lxc network info shows the bridge's real address, MTU, state and bridge section", async () => {
    const { stdout } = await lxc('network', 'info', net);
    const ip = (JSON.parse((await run('ip', ['-j', 'addr', 'show', 'dev', net])).stdout) as Array<{ address: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>)[0]!;
    const inet = ip.addr_info.find((a) => a.family === 'inet')!;
    assert.match(stdout, new RegExp(`^Name: ${net}$`, 'm'));
    assert.match(stdout, new RegExp(`^MAC address: ${ip.address}$`, 'm'));
    assert.match(stdout, /^MTU: 1400$/m);
    assert.match(stdout, /^State: up$/m);
    assert.match(stdout, /^Type: broadcast$/m);
    assert.ok(stdout.includes(`  inet\t${inet.local}/${inet.prefixlen} (global)\n`), stdout);
    assert.match(stdout, /^Bridge:$/m);
    assert.match(stdout, new RegExp(`^ {2}ID: ${readFileSync(`/sys/class/net/${net}/bridge/bridge_id`, 'utf8').trim().replace('.', '\\.')}$`, 'm'));
  });

  it("lxc launch --network puts c1 on the bridge; list-leases shows its DHCP lease and list counts the user", async () => {
    await lxc('launch', 'debian/12', 'c1', '--network', net);
    const instance = (await d.api().get('/1.0/instances/c1').expect(200)).body.metadata;
    assert.deepEqual(instance.devices.eth0, { name: 'eth0', type: 'nic', network: net });
    const mac = instance.config['volatile.eth0.hwaddr'] as string;
    let leases = '';
    for (let i = 0; i < 120 && !leases.includes(mac); i++) {
      leases = await csv('network', 'list-leases', net);
      if (!leases.includes(mac)) await new Promise((r) => setTimeout(r, 500));
    }
    const [lease] = leases.trim().split('\n').map((l) => l.split(','));
    assert.equal(lease?.[0], 'c1');
    assert.equal(lease?.[1], mac);
    assert.equal(lease?.[3], 'DYNAMIC');
    // The address leased is the one the container really has.
    const inside = (await lxc('exec', 'c1', '--', 'cat', '/proc/net/fib_trie')).stdout;
    assert.ok(inside.includes(lease![2]!), `c1 has ${lease![2]}`);
    assert.match(await csv('network', 'list'), new RegExp(`^${net},bridge,YES,[^,]+,,edited,1,CREATED$`, 'm'));
  });

  it('lxc network attach adds a nic that appears in c1 and on the bridge; detach removes both', async () => {
    const portsBefore = ports(net);
    await lxc('network', 'attach', net, 'c1', 'eth1');
    const devices = (await d.api().get('/1.0/instances/c1').expect(200)).body.metadata.devices;
    assert.deepEqual(devices.eth1, { type: 'nic', network: net });
    assert.deepEqual(await interfacesIn('c1'), ['eth0', 'eth1', 'lo']);
    assert.equal(ports(net).length, portsBefore.length + 1, 'a second veth host end is on the bridge');

    await lxc('network', 'detach', net, 'c1', 'eth1');
    assert.deepEqual(await interfacesIn('c1'), ['eth0', 'lo']);
    assert.deepEqual(ports(net), portsBefore);
    assert.equal((await d.api().get('/1.0/instances/c1').expect(200)).body.metadata.devices.eth1, undefined);
  });

  it('lxc network attach-profile adds a bridged nic (nictype, parent) that reaches c1 through the profile; detach-profile removes it', async () => {
    await lxc('profile', 'create', 'p1');
    await lxc('network', 'attach-profile', net, 'p1', 'eth2');
    assert.deepEqual((await d.api().get('/1.0/profiles/p1').expect(200)).body.metadata.devices, { eth2: { type: 'nic', nictype: 'bridged', parent: net } });
    await lxc('profile', 'add', 'c1', 'p1');
    assert.deepEqual(await interfacesIn('c1'), ['eth0', 'eth2', 'lo']);
    await lxc('profile', 'remove', 'c1', 'p1');
    assert.deepEqual(await interfacesIn('c1'), ['eth0', 'lo']);
    await lxc('network', 'detach-profile', net, 'p1');
    assert.deepEqual((await d.api().get('/1.0/profiles/p1').expect(200)).body.metadata.devices, {});
  });

  it('lxc network rename is refused while c1 uses it, then renames the bridge; lxc network delete leaves nothing', async () => {
    await assert.rejects(lxc('network', 'rename', net, renamed), (e: { code: number; stderr: string }) => e.code === 1 && /c1/.test(e.stderr));
    assert.ok(await link(net));
    await lxc('delete', '--force', 'c1');
    assert.equal((await lxc('network', 'rename', net, renamed)).stdout, `Network ${net} renamed to ${renamed}\n`);
    assert.equal(await link(net), undefined);
    assert.ok(await link(renamed));
    assert.ok(await hasNat(renamed));
    assert.deepEqual((await rows()).map((r) => r.name), [renamed]);

    assert.equal((await lxc('network', 'delete', renamed)).stdout, `Network ${renamed} deleted\n`);
    assert.equal(await link(renamed), undefined);
    assert.equal(await hasNat(renamed), false);
    assert.deepEqual(await rows(), []);
    await assert.rejects(lxc('network', 'show', renamed), refused(/not found/i));
  });
});
