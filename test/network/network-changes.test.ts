import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '#core';
import { BridgeNetworks } from '../../libs/network/src/bridge-networks.js';
import { formatInterfaceAddress, formatIpv4, formatSubnet } from '../../libs/network/src/domain/ipv4.js';
import { generateMac } from '../../libs/network/src/domain/mac.js';
import { natTableName } from '../../libs/network/src/domain/nat-rules.js';
import { networkSpecOf, type NetworkSpec } from '../../libs/network/src/domain/network-config.js';
import { DnsmasqError, NetworkAlreadyExistsError, NetworkNotFoundError } from '../../libs/network/src/domain/network.errors.js';
import { chooseSubnet } from '../../libs/network/src/domain/subnet-choice.js';
import { readHostPrefixes } from '../../libs/network/src/infrastructure/iproute.js';
import { createVethNic } from '../../libs/network/src/infrastructure/veth.js';
import { hostSnapshot, inNs, sh, stop, waitFor } from './support.js';

const tag = process.pid.toString(36);
const first = `bchg${tag}`;
const second = `bren${tag}`;
const ns = `berth-c${tag}`;
const veth = `bcv${tag}`;

/**
 * What this test may have changed on the host: links, nftables tables, namespaces and dnsmasq
 * processes of its own (other suites run daemons side by side).
 */
async function ours(berthDir: string): Promise<object> {
  const all = await hostSnapshot();
  const dnsmasq = [];
  for (const pid of all.dnsmasq) if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(berthDir)) dnsmasq.push(pid);
  return { links: all.links.filter((l) => l.includes(tag)), nftTables: all.nftTables.filter((t) => t.includes(tag)), netns: all.netns.filter((n) => n.includes(tag)), dnsmasq };
}

/** The IPv4 addresses of a link, with prefixes. */
async function addresses(dev: string): Promise<string[]> {
  const [link] = JSON.parse(await sh('ip', '-j', '-4', 'addr', 'show', 'dev', dev)) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>;
  return link!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
}

/** Local IPv4 TCP and UDP sockets a process listens on (dnsmasq also answers on the bridge's IPv6 link-local address once it has one). */
async function listening(pid: number): Promise<string[]> {
  return [...new Set((await sh('ss', '-4', '-H', '-lnutp')).split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/)[4]!))].sort();
}

/** A free /24 for this test, clear of the host and of `avoid`. */
async function freeGateway(seed: string, avoid: string[] = []): Promise<string> {
  const taken = [...(await readHostPrefixes()).map((p) => p.subnet), ...avoid.map((a) => networkSpecOf('x', { 'ipv4.address': a }).gateway.subnet)];
  return formatInterfaceAddress(chooseSubnet(seed, taken)!);
}

/** Holds tcp <address>:53 before the address exists on any interface (IP_FREEBIND), as a rival DNS server would. */
function holdPort53(address: string): Promise<ChildProcess> {
  const code = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_IP, 15, 1)
s.bind((sys.argv[1], 53))
s.listen(1)
print('ready', flush=True)
sys.stdin.read()
`;
  const child = spawn('python3', ['-c', code, address], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`port holder exited with ${code}`)));
  });
}

describe('changing a managed network live: re-address, NAT, MTU, dnsmasq, rename, state', { concurrency: false }, () => {
  let initial: object;
  let berthDir: string;
  let networks: BridgeNetworks;
  let spec: NetworkSpec;

  before(async () => {
    berthDir = await mkdtemp(join(tmpdir(), 'berth-chg-'));
    initial = await ours(berthDir);
    await chmod(berthDir, 0o711);
    networks = new BridgeNetworks({ berthDir });
    spec = networkSpecOf(first, await networks.resolveConfig(first, { 'ipv4.address': 'auto' }));
    await networks.create(spec);
  });

  after(async () => {
    await sh('ip', 'netns', 'delete', ns).catch(() => undefined);
    for (const name of [first, second]) {
      await networks.delete(name).catch(() => undefined);
      await sh('ip', 'link', 'delete', name).catch(() => undefined);
      await sh('nft', 'delete', 'table', 'ip', natTableName(name)).catch(() => undefined);
    }
    await rm(berthDir, { recursive: true, force: true });
  });

  it('re-addresses the bridge, moves NAT and restarts dnsmasq on its new config, all at once', async () => {
    const oldPid = (await networks.inspect(first)).dnsmasqPid!;
    const address = await freeGateway(`${first}-b`, [formatInterfaceAddress(spec.gateway)]);
    const next = networkSpecOf(first, {
      'ipv4.address': address,
      'ipv4.nat': 'true',
      'ipv4.dhcp.ranges': `${formatIpv4(networkSpecOf('x', { 'ipv4.address': address }).gateway.address + 9)}-${formatIpv4(networkSpecOf('x', { 'ipv4.address': address }).gateway.address + 19)}`,
      'dns.domain': 'lab.test',
      'bridge.mtu': '1400',
    });
    const state = await networks.update(next);
    assert.deepEqual(await addresses(first), [address]);
    assert.equal(state.bridge.mtu, 1400);
    const cidr = formatSubnet(next.gateway.subnet);
    assert.match(await sh('nft', 'list', 'table', 'ip', natTableName(first)), new RegExp(`ip saddr ${cidr.replaceAll('.', '\\.')} ip daddr != ${cidr.replaceAll('.', '\\.')} masquerade`));
    const conf = await readFile(join(berthDir, 'networks', first, 'dnsmasq.conf'), 'utf8');
    const gw = formatIpv4(next.gateway.address);
    assert.match(conf, new RegExp(`^listen-address=${gw.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(conf, /^domain=lab\.test$/m);
    assert.match(conf, /^dhcp-option=option:mtu,1400$/m);
    assert.match(conf, new RegExp(`^dhcp-range=${formatIpv4(next.gateway.address + 9).replaceAll('.', '\\.')},${formatIpv4(next.gateway.address + 19).replaceAll('.', '\\.')},`, 'm'));
    assert.notEqual(state.dnsmasqPid, oldPid);
    assert.equal(await readFile(`/proc/${oldPid}/cmdline`, 'utf8').catch(() => ''), '', 'the old dnsmasq is gone');
    assert.deepEqual(await listening(state.dnsmasqPid!), [`${gw}:53`, `0.0.0.0%${first}:67`].sort());
    assert.deepEqual(await networks.stored(first), next);
    spec = next;
  });

  it('turns NAT off and on again', async () => {
    await networks.update({ ...spec, nat: false });
    assert.equal((await networks.inspect(first)).natTable, undefined);
    assert.doesNotMatch(await sh('nft', 'list', 'tables'), new RegExp(`\\b${natTableName(first)}\\b`));
    await networks.update(spec);
    assert.equal((await networks.inspect(first)).natTable, natTableName(first));
  });

  it('refuses an address that would strand a static reservation, naming its holder, and changes nothing', async () => {
    await networks.setHost(first, { mac: generateMac(), name: 'holder', ipv4: formatIpv4(spec.gateway.address + 50) });
    const before_ = await ours(berthDir);
    const elsewhere = await freeGateway(`${first}-c`, [formatInterfaceAddress(spec.gateway)]);
    await assert.rejects(
      networks.update(networkSpecOf(first, { 'ipv4.address': elsewhere, 'ipv4.nat': 'true' })),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message === `Invalid config["ipv4.address"]: ${formatSubnet(networkSpecOf('x', { 'ipv4.address': elsewhere }).gateway.subnet)} does not contain ${formatIpv4(spec.gateway.address + 50)}, reserved by instance "holder"`,
    );
    assert.deepEqual(await ours(berthDir), before_);
    assert.deepEqual(await networks.stored(first), spec);
  });

  it('puts the previous address, NAT and dnsmasq back when the new dnsmasq cannot start', async () => {
    const pid = (await networks.inspect(first)).dnsmasqPid!;
    const elsewhere = await freeGateway(`${first}-d`, [formatInterfaceAddress(spec.gateway)]);
    const gw = elsewhere.split('/')[0]!;
    const holder = await holdPort53(gw);
    try {
      await networks.removeHost(first, (await networks.hosts(first))[0]!.split(',')[0]!);
      await assert.rejects(networks.update(networkSpecOf(first, { 'ipv4.address': elsewhere, 'ipv4.nat': 'true' })), (e: unknown) => e instanceof DnsmasqError && /Address already in use/.test(e.message));
    } finally {
      await stop(holder);
    }
    assert.deepEqual(await addresses(first), [formatInterfaceAddress(spec.gateway)]);
    assert.deepEqual(await networks.stored(first), spec);
    const state = await networks.inspect(first);
    assert.equal(state.natTable, natTableName(first));
    assert.match(await sh('nft', 'list', 'table', 'ip', natTableName(first)), new RegExp(formatSubnet(spec.gateway.subnet).replaceAll('.', '\\.')));
    assert.notEqual(state.dnsmasqPid, undefined);
    assert.notEqual(state.dnsmasqPid, pid, 'dnsmasq was restarted on the previous config');
    assert.deepEqual(await listening(state.dnsmasqPid!), [`${formatIpv4(spec.gateway.address)}:53`, `0.0.0.0%${first}:67`].sort());
  });

  it('reports the bridge state: addresses, counters from sysfs, MAC, MTU and ports', async () => {
    await sh('ip', 'netns', 'add', ns);
    const mac = generateMac();
    await createVethNic({ hostName: veth, bridge: first, netns: { path: `/run/netns/${ns}` }, mac });
    const inside = formatIpv4(spec.gateway.address + 5);
    await sh('ip', '-n', ns, 'addr', 'add', `${inside}/${spec.gateway.subnet.prefix}`, 'dev', 'eth0');
    const before_ = await networks.state(first);
    await inNs(ns, 'ping', '-c', '3', '-W', '2', formatIpv4(spec.gateway.address));
    const state = await networks.state(first);
    const link = JSON.parse(await sh('ip', '-j', 'link', 'show', 'dev', first))[0] as { address: string; mtu: number };
    assert.deepEqual(state.addresses.filter((a) => a.family === 'inet'), [{ family: 'inet', address: formatIpv4(spec.gateway.address), netmask: String(spec.gateway.subnet.prefix), scope: 'global' }]);
    assert.equal(state.hwaddr, link.address);
    assert.equal(state.mtu, 1400);
    assert.equal(state.state, 'up');
    assert.equal(state.type, 'broadcast');
    assert.deepEqual(state.bridge.upper_devices, [veth]);
    assert.equal(state.bridge.stp, false);
    assert.match(state.bridge.id, /^8000\.[0-9a-f]{12}$/);
    assert.ok(state.counters.packets_received >= before_.counters.packets_received + 3, JSON.stringify([before_.counters, state.counters]));
    assert.ok(state.counters.bytes_sent > before_.counters.bytes_sent);
    await sh('ip', 'netns', 'delete', ns);
    await waitFor('the veth to go with its namespace', async () => ((await networks.state(first)).bridge.upper_devices.length === 0 ? true : undefined));
  });

  it('refuses to rename onto a name the host already uses, changing nothing', async () => {
    const before_ = await ours(berthDir);
    await assert.rejects(networks.rename(first, 'lo'), (e: unknown) => e instanceof NetworkAlreadyExistsError && e.message === 'Network lo already exists (interface lo exists on the host)');
    assert.deepEqual(await ours(berthDir), before_);
    assert.deepEqual(await networks.list(), [first]);
  });

  it('renames the bridge, its directory, dnsmasq and NAT table', async () => {
    const oldPid = (await networks.inspect(first)).dnsmasqPid!;
    const state = await networks.rename(first, second);
    const links = (JSON.parse(await sh('ip', '-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname);
    assert.equal(links.includes(first), false);
    assert.deepEqual(await addresses(second), [formatInterfaceAddress(spec.gateway)]);
    assert.deepEqual(await networks.list(), [second]);
    assert.equal(await stat(join(berthDir, 'networks', first)).catch(() => undefined), undefined);
    const tables = await sh('nft', 'list', 'tables');
    assert.match(tables, new RegExp(`table ip ${natTableName(second)}$`, 'm'));
    assert.doesNotMatch(tables, new RegExp(`table ip ${natTableName(first)}$`, 'm'));
    assert.equal(await readFile(`/proc/${oldPid}/cmdline`, 'utf8').catch(() => ''), '');
    const cmdline = (await readFile(`/proc/${state.dnsmasqPid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    assert.deepEqual(cmdline, ['dnsmasq', `--conf-file=${join(berthDir, 'networks', second, 'dnsmasq.conf')}`]);
    assert.match(await readFile(join(berthDir, 'networks', second, 'dnsmasq.conf'), 'utf8'), new RegExp(`^interface=${second}$`, 'm'));
    assert.deepEqual(await networks.stored(second), { ...spec, name: second });
    await assert.rejects(networks.stored(first), NetworkNotFoundError);
    assert.deepEqual(await listening(state.dnsmasqPid!), [`${formatIpv4(spec.gateway.address)}:53`, `0.0.0.0%${second}:67`].sort());
  });

  it('deleting the renamed network leaves the host as it was', async () => {
    await networks.delete(second);
    assert.deepEqual(await ours(berthDir), initial);
  });
});
