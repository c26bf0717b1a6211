import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '#core';
import { BridgeNetworks } from '../../libs/network/src/bridge-networks.js';
import { formatInterfaceAddress, formatIpv4, formatSubnet, parseIpv4 } from '../../libs/network/src/domain/ipv4.js';
import { generateMac } from '../../libs/network/src/domain/mac.js';
import { hostVethName } from '../../libs/network/src/domain/names.js';
import { natTableName } from '../../libs/network/src/domain/nat-rules.js';
import { networkSpecOf, type NetworkSpec } from '../../libs/network/src/domain/network-config.js';
import { DnsmasqError, NetworkAlreadyExistsError, StateDirectoryError, SubnetInUseError } from '../../libs/network/src/domain/network.errors.js';
import { ifbNameFor } from '../../libs/network/src/domain/shaping.js';
import { chooseSubnet } from '../../libs/network/src/domain/subnet-choice.js';
import { readHostPrefixes } from '../../libs/network/src/infrastructure/iproute.js';
import { applyNicLimits, readNicLimits } from '../../libs/network/src/infrastructure/traffic-shaper.js';
import { attachVethNic, createVethNic, deleteVethNic } from '../../libs/network/src/infrastructure/veth.js';
import { hostSnapshot, inNs, nsAddress, sh, spawnInNs, stop, waitFor, type HostSnapshot } from './support.js';

const tag = process.pid.toString(36);
const bridge = `btst${tag}`;
const nsA = `berth-t${tag}-a`;
const nsB = `berth-t${tag}-b`;
const nsUp = `berth-t${tag}-up`;
// Named after uuids standing in for two instances' volatile.uuid.
const vethA = hostVethName(randomUUID(), 'eth0');
const vethB = hostVethName(randomUUID(), 'eth0');
const vethUp = `btu${tag}`;
const macA = generateMac();
const macB = generateMac();

/** Runs a DHCP client inside a namespace, with its own config, script, lease and pid files. */
async function dhclient(dir: string, ns: string): Promise<ChildProcess> {
  const script = join(dir, `dhclient-script-${ns}`);
  // Only addresses: no routes, no resolv.conf (the namespace shares the host's /etc).
  await writeFile(
    script,
    ['#!/bin/sh', 'case "$reason" in', '  PREINIT) ip link set dev "$interface" up ;;',
      '  BOUND|RENEW|REBIND|REBOOT) ip -4 addr flush dev "$interface"; ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;;',
      'esac', ''].join('\n'),
    { mode: 0o755 },
  );
  await writeFile(join(dir, `dhclient-${ns}.conf`), 'timeout 30;\n');
  return spawnInNs(ns, 'dhclient', '-4', '-d', '-cf', join(dir, `dhclient-${ns}.conf`), '-sf', script, '-lf', join(dir, `dhclient-${ns}.leases`), '-pf', join(dir, `dhclient-${ns}.pid`), 'eth0');
}

/** Receiver-side throughput of an iperf3 run from `clientNs` to a server in `serverNs`. */
async function iperf(serverNs: string, serverIp: string, clientNs: string, reverse: boolean): Promise<number> {
  const server = spawnInNs(serverNs, 'iperf3', '-s', '-1', '-B', serverIp, '-p', '5201');
  try {
    await waitFor('iperf3 server to listen', async () => ((await sh('ip', 'netns', 'exec', serverNs, 'ss', '-H', '-ltn', 'sport', '= :5201')).trim() ? true : undefined));
    const out = await inNs(clientNs, 'iperf3', '-c', serverIp, '-p', '5201', '-t', '3', '-O', '1', '-J', ...(reverse ? ['-R'] : []));
    const result = JSON.parse(out) as { error?: string; end: { sum_received?: { bits_per_second: number } } };
    if (!result.end.sum_received) throw new Error(`iperf3: ${result.error ?? out}`);
    return result.end.sum_received.bits_per_second;
  } finally {
    await stop(server);
  }
}

describe('a managed bridge network with dnsmasq, NAT and veth nics', { concurrency: false }, () => {
  let before_: HostSnapshot;
  let berthDir: string;
  let work: string;
  let networks: BridgeNetworks;
  let spec: NetworkSpec;
  let gateway: string;
  let staticIp: string;
  const children: ChildProcess[] = [];

  before(async () => {
    before_ = await hostSnapshot();
    berthDir = await mkdtemp(join(tmpdir(), 'berth-net-'));
    // dnsmasq runs as nobody and must reach its hosts directory.
    await chmod(berthDir, 0o711);
    work = await mkdtemp(join(tmpdir(), 'berth-net-work-'));
    networks = new BridgeNetworks({ berthDir });
  });

  after(async () => {
    for (const child of children) await stop(child).catch(() => undefined);
    for (const ns of [nsA, nsB, nsUp]) await sh('ip', 'netns', 'delete', ns).catch(() => undefined);
    for (const link of [vethA, vethB, vethUp, ifbNameFor(vethA), ifbNameFor(vethB), bridge]) await sh('ip', 'link', 'delete', link).catch(() => undefined);
    await networks.delete(bridge).catch(() => undefined);
    await sh('nft', 'delete', 'table', 'ip', natTableName(bridge)).catch(() => undefined);
    await rm(berthDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a bad CIDR and a subnet the host already routes, changing nothing', async () => {
    await assert.rejects(networks.resolveConfig(bridge, { 'ipv4.address': '10.0.0.1/33' }), (e: unknown) => e instanceof ValidationError && e.message === 'Invalid config["ipv4.address"]: prefix length /33 is greater than /32');
    await assert.rejects(networks.resolveConfig(bridge, { 'ipv4.address': '192.0.2.77/24' }), (e: unknown) => e instanceof SubnetInUseError && /overlaps route 192\.0\.2\.0\/24 dev eth0/.test(e.message));
    // Past resolveConfig too: create() checks the host again.
    await assert.rejects(networks.create(networkSpecOf(bridge, { 'ipv4.address': '192.0.2.77/24' })), SubnetInUseError);
    assert.deepEqual(await hostSnapshot(), before_);
    assert.deepEqual(await networks.list(), []);
  });

  it('refuses a BERTH_DIR that dnsmasq could not reach once it drops root, before touching anything', async () => {
    const closed = await mkdtemp(join(tmpdir(), 'berth-net-closed-'));
    try {
      const spec_ = networkSpecOf(bridge, { 'ipv4.address': '10.0.0.1/24' });
      await assert.rejects(new BridgeNetworks({ berthDir: closed }).create(spec_), (e: unknown) => e instanceof StateDirectoryError && e.path === closed && e.code === 'NETWORK.STATE_DIR_UNREADABLE');
      assert.deepEqual(await readdir(closed), []);
      assert.deepEqual(await hostSnapshot(), before_);
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });

  it('undoes the bridge, NAT table and forwarding when dnsmasq fails to start', async () => {
    // The one failure injected: a dnsmasq that refuses to start, first on PATH.
    const fakeBin = await mkdtemp(join(tmpdir(), 'berth-net-bin-'));
    await writeFile(join(fakeBin, 'dnsmasq'), '#!/bin/sh\necho "dnsmasq: failed to create listening socket: Address in use" >&2\nexit 2\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${fakeBin}:${path}`;
    try {
      const config = await networks.resolveConfig(bridge, { 'ipv4.address': 'auto' });
      await assert.rejects(networks.create(networkSpecOf(bridge, config)), (e: unknown) => e instanceof DnsmasqError && e.code === 'NETWORK.DNSMASQ_FAILED' && /Address in use/.test(e.message));
    } finally {
      process.env.PATH = path;
      await rm(fakeBin, { recursive: true, force: true });
    }
    assert.deepEqual(await hostSnapshot(), before_);
    assert.deepEqual(await networks.list(), []);
  });

  it('creates the bridge, its NAT table, forwarding and a detached dnsmasq', async () => {
    const config = await networks.resolveConfig(bridge, { 'ipv4.address': 'auto' });
    assert.equal(config['ipv4.nat'], 'true');
    const gw = parseIpv4('gw', config['ipv4.address']!.split('/')[0]!);
    config['ipv4.dhcp.ranges'] = `${formatIpv4(gw + 99)}-${formatIpv4(gw + 149)}`;
    spec = networkSpecOf(bridge, config);
    gateway = formatIpv4(spec.gateway.address);
    staticIp = formatIpv4(spec.gateway.address + 49);

    const state = await networks.create(spec);
    assert.equal(state.bridge.exists, true);
    assert.equal(state.bridge.up, true);
    assert.equal(state.ipv4Address, config['ipv4.address']);
    assert.equal(state.natTable, `berth-${bridge}`);
    assert.equal(state.ipForwarding, true);

    const [link] = JSON.parse(await sh('ip', '-j', '-d', 'addr', 'show', 'dev', bridge)) as Array<{ linkinfo: { info_kind: string }; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
    assert.equal(link!.linkinfo.info_kind, 'bridge');
    assert.deepEqual(link!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), [config['ipv4.address']]);

    const ruleset = await sh('nft', 'list', 'table', 'ip', `berth-${bridge}`);
    const cidr = formatSubnet(spec.gateway.subnet);
    assert.match(ruleset, new RegExp(`ip saddr ${cidr.replaceAll('.', '\\.')} ip daddr != ${cidr.replaceAll('.', '\\.')} masquerade`));

    const pid = state.dnsmasqPid!;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    assert.deepEqual(cmdline.filter(Boolean), ['dnsmasq', `--conf-file=${join(berthDir, 'networks', bridge, 'dnsmasq.conf')}`]);
    const ppid = Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[1]);
    assert.notEqual(ppid, process.pid, 'dnsmasq is not a child of the process that started it');
    // Bound to the bridge only: DNS on the gateway address, DHCP on the bridge device.
    const sockets = (await sh('ss', '-H', '-lnutp')).split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/)[4]);
    assert.deepEqual([...new Set(sockets)].sort(), [`${gateway}:53`, `0.0.0.0%${bridge}:67`].sort());
  });

  it('refuses a second network with the same bridge name or subnet, leaving the first intact', async () => {
    const other = await mkdtemp(join(tmpdir(), 'berth-net-other-'));
    await chmod(other, 0o711);
    const during = await hostSnapshot();
    const firstPid = (await networks.inspect(bridge)).dnsmasqPid;
    assert.ok(firstPid);
    try {
      const second = new BridgeNetworks({ berthDir: other });
      const free = chooseSubnet(`${bridge}-2`, (await readHostPrefixes()).map((p) => p.subnet))!;
      await assert.rejects(second.create(networkSpecOf(bridge, { 'ipv4.address': `${formatIpv4(free.address)}/24` })), (e: unknown) => e instanceof NetworkAlreadyExistsError && e.code === 'NETWORK.ALREADY_EXISTS');
      await assert.rejects(second.create(networkSpecOf(`${bridge}x`, { 'ipv4.address': `${formatIpv4(spec.gateway.address + 7)}/24` })), (e: unknown) => e instanceof SubnetInUseError && e.code === 'NETWORK.SUBNET_IN_USE');
      // In the same BERTH_DIR the directory is the claim.
      await assert.rejects(networks.create(spec), NetworkAlreadyExistsError);
      assert.deepEqual(await hostSnapshot(), during);
      assert.deepEqual(await second.list(), []);
      assert.equal((await networks.inspect(bridge)).dnsmasqPid, firstPid, 'the first network\'s dnsmasq still runs');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('gives two namespaces leases by DHCP, a static reservation, names, and a path to each other', async () => {
    for (const ns of [nsA, nsB]) await sh('ip', 'netns', 'add', ns);
    await createVethNic({ hostName: vethA, bridge, netns: { path: `/run/netns/${nsA}` }, mac: macA, mtu: 1500 });
    await createVethNic({ hostName: vethB, bridge, netns: { path: `/run/netns/${nsB}` }, mac: macB });
    const [innerA] = JSON.parse(await sh('ip', '-n', nsA, '-j', 'link', 'show', 'dev', 'eth0')) as Array<{ address: string; mtu: number }>;
    assert.equal(innerA!.address, macA);
    const [hostA] = JSON.parse(await sh('ip', '-j', 'link', 'show', 'dev', vethA)) as Array<{ master: string }>;
    assert.equal(hostA!.master, bridge);

    await networks.setHost(bridge, { mac: macA, name: 'alpha' });
    await networks.setHost(bridge, { mac: macB, name: 'bravo', ipv4: staticIp });
    assert.deepEqual((await networks.hosts(bridge)).sort(), [`${macA},alpha`, `${macB},${staticIp},bravo`].sort());

    children.push(await dhclient(work, nsA), await dhclient(work, nsB));
    const ipA = await waitFor('a lease in alpha', () => nsAddress(nsA, 'eth0'));
    const ipB = await waitFor('a lease in bravo', () => nsAddress(nsB, 'eth0'));
    const offsetA = parseIpv4('a', ipA) - spec.gateway.address;
    assert.ok(offsetA >= 99 && offsetA <= 149, `${ipA} is in the range`);
    assert.equal(ipB, staticIp, 'the reservation is honoured');

    await inNs(nsA, 'ping', '-c', '2', '-W', '2', ipB);
    await inNs(nsB, 'ping', '-c', '2', '-W', '2', ipA);
    assert.equal((await inNs(nsB, 'dig', '+short', '+time=2', '+tries=2', `@${gateway}`, 'alpha.berth')).trim(), ipA);
    assert.equal((await inNs(nsA, 'dig', '+short', '+time=2', '+tries=2', `@${gateway}`, 'bravo.berth')).trim(), ipB);
    // Nothing outside the domain is forwarded anywhere: dnsmasq has no upstream.
    assert.match(await inNs(nsA, 'dig', '+time=2', '+tries=1', `@${gateway}`, 'nothing.invalid'), /status: REFUSED/);

    const leases = await waitFor('both leases on disk', async () => {
      const all = await networks.leases(bridge);
      return all.length === 2 ? all : undefined;
    });
    assert.deepEqual(leases.map((l) => [l.mac, l.ipv4, l.hostname]).sort(), [[macA, ipA, 'alpha'], [macB, ipB, 'bravo']].sort());
  });

  it('masquerades traffic leaving the subnet (to a namespace standing in for the outside)', async () => {
    // A third namespace on a subnet of its own, reached through the host: only our own addresses.
    const up = chooseSubnet(`${bridge}-up`, (await readHostPrefixes()).map((p) => p.subnet))!;
    const hostSide = formatIpv4(up.address);
    const farSide = formatIpv4(up.address + 1);
    await sh('ip', 'netns', 'add', nsUp);
    await sh('ip', 'link', 'add', vethUp, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsUp);
    await sh('ip', 'addr', 'add', `${hostSide}/24`, 'dev', vethUp);
    await sh('ip', 'link', 'set', vethUp, 'up');
    await sh('ip', '-n', nsUp, 'addr', 'add', `${farSide}/24`, 'dev', 'eth0');
    await sh('ip', '-n', nsUp, 'link', 'set', 'eth0', 'up');
    await sh('ip', '-n', nsA, 'route', 'add', formatSubnet(up.subnet), 'via', gateway);
    const server = spawnInNs(nsUp, process.execPath, '-e', `require('net').createServer((s) => s.end(s.remoteAddress)).listen(7007, '${farSide}', () => console.log('ready'))`);
    children.push(server);
    await new Promise((resolve) => server.stdout!.once('data', resolve));
    const seen = await inNs(nsA, process.execPath, '-e', `const s = require('net').connect(7007, '${farSide}'); s.on('data', (d) => process.stdout.write(d));`);
    assert.equal(seen, hostSide, 'the far side sees the host, not the container');
    await stop(server);
  });

  it('shapes a nic in both directions, live, and removes the shaping', async () => {
    const ipA = (await nsAddress(nsA, 'eth0'))!;
    const unshaped = await iperf(nsA, ipA, nsB, false);
    await applyNicLimits(vethA, { ingress: 10e6, egress: 20e6 });
    assert.deepEqual(await readNicLimits(vethA), { ingress: 10e6, egress: 20e6 });
    const intoA = await iperf(nsA, ipA, nsB, false);
    const outOfA = await iperf(nsA, ipA, nsB, true);
    await applyNicLimits(vethA, { ingress: 40e6 });
    assert.deepEqual(await readNicLimits(vethA), { ingress: 40e6 });
    const intoAFaster = await iperf(nsA, ipA, nsB, false);
    await applyNicLimits(vethA, {});
    assert.deepEqual(await readNicLimits(vethA), {});
    assert.equal((await sh('ip', '-j', 'link', 'show')).includes(ifbNameFor(vethA)), false);
    const rates = { unshaped, intoA, outOfA, intoAFaster };
    console.log(`measured bit/s: ${JSON.stringify(rates)}`);
    assert.ok(unshaped > 200e6, `unshaped ${unshaped}`);
    assert.ok(intoA > 7e6 && intoA < 11e6, `ingress limit 10Mbit: ${intoA}`);
    assert.ok(outOfA > 14e6 && outOfA < 21e6, `egress limit 20Mbit: ${outOfA}`);
    assert.ok(intoAFaster > 28e6 && intoAFaster < 42e6, `ingress limit changed live to 40Mbit: ${intoAFaster}`);
  });

  it('adopts a running dnsmasq after a restart and repairs what went missing', async () => {
    const first = (await networks.inspect(bridge)).dnsmasqPid!;
    const restarted = new BridgeNetworks({ berthDir });
    assert.deepEqual(await restarted.stored(bridge), spec);
    assert.equal((await restarted.ensure(spec)).dnsmasqPid, first, 'adopted, not restarted');
    await sh('nft', 'delete', 'table', 'ip', natTableName(bridge));
    process.kill(first, 'SIGKILL');
    await waitFor('dnsmasq to die', async () => ((await restarted.inspect(bridge)).dnsmasqPid === undefined ? true : undefined));
    const repaired = await restarted.ensure(spec);
    assert.notEqual(repaired.dnsmasqPid, undefined);
    assert.notEqual(repaired.dnsmasqPid, first);
    assert.equal(repaired.natTable, natTableName(bridge));
    // The reservations survived, and the new dnsmasq still answers for them.
    assert.equal((await inNs(nsA, 'dig', '+short', '+time=2', '+tries=2', `@${gateway}`, 'bravo.berth')).trim(), staticIp);

    // As after a reboot: the bridge is gone but dnsmasq (here) and the state directory are not.
    await sh('ip', 'link', 'delete', bridge);
    const rebuilt = await restarted.ensure(spec);
    assert.equal(rebuilt.bridge.exists && rebuilt.bridge.up, true);
    assert.equal(rebuilt.ipv4Address, formatInterfaceAddress(spec.gateway));
    assert.notEqual(rebuilt.dnsmasqPid, repaired.dnsmasqPid, 'dnsmasq is restarted onto the new bridge');
    // Re-attaching the nics is the runtime's part when it adopts running containers.
    for (const veth of [vethA, vethB]) await attachVethNic(veth, bridge);
    assert.equal((await inNs(nsA, 'dig', '+short', '+time=2', '+tries=3', `@${gateway}`, 'bravo.berth')).trim(), staticIp);
    await inNs(nsA, 'ping', '-c', '1', '-W', '2', staticIp);
  });

  it('deleting the nics and the network leaves nothing behind', async () => {
    for (const child of children.splice(0)) await stop(child);
    assert.equal(await deleteVethNic(vethA), true);
    assert.equal(await deleteVethNic(vethB), true);
    assert.equal(await deleteVethNic(vethB), false);
    for (const ns of [nsA, nsB, nsUp]) await sh('ip', 'netns', 'delete', ns);
    await sh('ip', 'link', 'delete', vethUp).catch(() => undefined);
    const pid = (await networks.inspect(bridge)).dnsmasqPid!;
    await networks.delete(bridge);
    assert.deepEqual(await hostSnapshot(), before_);
    assert.equal(await stat(join(berthDir, 'networks', bridge)).catch(() => undefined), undefined);
    assert.equal(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''), '', `dnsmasq ${pid} has exited`);
    assert.deepEqual(await networks.list(), []);
  });
});
