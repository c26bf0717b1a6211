import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '#core';
import { BridgeNetworks } from '../../libs/network/src/bridge-networks.js';
import { formatIpv4 } from '../../libs/network/src/domain/ipv4.js';
import { generateMac } from '../../libs/network/src/domain/mac.js';
import { natTableName } from '../../libs/network/src/domain/nat-rules.js';
import { networkSpecOf } from '../../libs/network/src/domain/network-config.js';
import { forwardTableName, portForwardId } from '../../libs/network/src/domain/port-forward.js';
import { IptablesNat } from '../../libs/network/src/infrastructure/iptables-nat.js';
import { type NatBackend } from '../../libs/network/src/infrastructure/nat-backend.js';
import { NftablesNat } from '../../libs/network/src/infrastructure/nftables-nat.js';
import { proxyDeviceOf, stopProxies, syncProxies } from '../../libs/network/src/infrastructure/proxy.js';
import { createVethNic } from '../../libs/network/src/infrastructure/veth.js';
import { sh, spawnInNs, stop } from './support.js';

const tag = process.pid.toString(36);
const bridge = `bnat${tag}`;
const ns = `berth-nat${tag}`;
const veth = `bnv${tag}`;
const instance = 'web1';

/** A web server answering with the address it saw the client come from, and a UDP echo doing the same. */
const SERVER = (address: string) => `
const http = require('http');
const dgram = require('dgram');
let left = 2;
const up = () => { if (--left === 0) console.log('ready'); };
http.createServer((req, res) => res.end('hello from ' + req.socket.localAddress + ' to ' + req.socket.remoteAddress + '\\n')).listen(80, '${address}', up);
const udp = dgram.createSocket('udp4');
udp.on('message', (m, from) => udp.send(m + ' from ' + from.address, from.port, from.address));
udp.bind(5353, '${address}', up);
`;

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  s.close();
  return port;
}

function udpAsk(host: string, port: number, text: string): Promise<string> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no answer from ${host}:${port}`));
    }, 5000);
    socket.once('message', (m) => {
      clearTimeout(timer);
      socket.close();
      resolve(m.toString());
    });
    socket.send(text, port, host);
  });
}

const routeLocalnet = async () => (await readFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, 'utf8')).trim();
const curl = (url: string) => sh('curl', '-sS', '--max-time', '5', url);

describe('proxy devices in nat mode: kernel DNAT to the nic\'s static address, with nftables and iptables', { concurrency: false }, () => {
  let berthDir: string;
  let networks: BridgeNetworks;
  let gateway: string;
  let target: string;
  let server: ChildProcess;
  const backends: Array<[string, NatBackend, (id: string) => Promise<string>]> = [
    ['nftables', new NftablesNat(), (id) => sh('nft', 'list', 'table', 'ip', forwardTableName(id))],
    ['iptables (legacy)', new IptablesNat('iptables-legacy'), (id) => new IptablesNat('iptables-legacy').forwardRules(id).then((r) => r.join('\n'))],
  ];

  before(async () => {
    berthDir = await mkdtemp(join(tmpdir(), 'berth-nat-'));
    await chmod(berthDir, 0o711);
    await mkdir(join(berthDir, 'containers', instance), { recursive: true });
    networks = new BridgeNetworks({ berthDir });
    const spec = networkSpecOf(bridge, await networks.resolveConfig(bridge, { 'ipv4.address': 'auto' }));
    await networks.create(spec);
    gateway = formatIpv4(spec.gateway.address);
    target = formatIpv4(spec.gateway.address + 10);
    await sh('ip', 'netns', 'add', ns);
    await createVethNic({ hostName: veth, bridge, netns: { path: `/run/netns/${ns}` }, mac: generateMac() });
    await sh('ip', '-n', ns, 'addr', 'add', `${target}/${spec.gateway.subnet.prefix}`, 'dev', 'eth0');
    await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    server = spawnInNs(ns, process.execPath, '-e', SERVER(target));
    await new Promise((resolve) => server.stdout!.once('data', resolve));
  });

  after(async () => {
    await stop(server);
    // By id, in both backends: after a failure the records may name the other backend's rules.
    for (const device of ['web', 'dns', 'a', 'b']) {
      for (const [, nat] of backends) await nat.removeForward(portForwardId(berthDir, instance, device)).catch(() => undefined);
    }
    await sh('ip', 'netns', 'delete', ns).catch(() => undefined);
    await networks.delete(bridge).catch(() => undefined);
    await sh('nft', 'delete', 'table', 'ip', natTableName(bridge)).catch(() => undefined);
    await rm(berthDir, { recursive: true, force: true });
  });

  for (const [label, nat, rules] of backends) {
    it(`${label}: forwards tcp from the host's loopback and udp from a host address, keeps them on resync, removes them on stop`, async () => {
      const [tcpPort, udpPort] = [await freePort(), await freePort()];
      const nics = { eth0: { network: bridge, address: target } };
      const devices = {
        web: proxyDeviceOf('web', { type: 'proxy', listen: `tcp:127.0.0.1:${tcpPort}`, connect: 'tcp:0.0.0.0:80', nat: 'true' }, nics),
        dns: proxyDeviceOf('dns', { type: 'proxy', listen: `udp:${gateway}:${udpPort}`, connect: `udp:${target}:5353`, nat: 'true' }, nics),
      };
      const webId = portForwardId(berthDir, instance, 'web');
      assert.deepEqual(await syncProxies({ berthDir, instance, pid: process.pid, devices, nat }), { started: ['web', 'dns'], stopped: [] });

      // The client's address is kept, except from loopback, which cannot leave the host and is masqueraded to the bridge's.
      assert.equal(await curl(`http://127.0.0.1:${tcpPort}/`), `hello from ${target} to ${gateway}\n`);
      assert.equal(await udpAsk(gateway, udpPort, 'ping'), `ping from ${gateway}`);
      assert.equal(await routeLocalnet(), '1');
      const listed = await rules(webId);
      assert.match(listed, new RegExp(`127\\.0\\.0\\.1.*${tcpPort}.*${target.replaceAll('.', '\\.')}:80`));
      // route_localnet lets the bridge carry 127.0.0.0/8: what the instances send there is dropped.
      assert.match(listed, new RegExp(`(iifname "${bridge}" ip daddr 127\\.0\\.0\\.0/8 drop|-d 127\\.0\\.0\\.0/8 -i ${bridge} .*-j DROP)`));
      assert.deepEqual((await readdir(join(berthDir, 'containers', instance))).filter((f) => f.endsWith('.nat')).sort(), ['proxy-dns.nat', 'proxy-web.nat']);
      assert.deepEqual(await readdir(join(berthDir, 'containers', instance)).then((f) => f.filter((n) => n.endsWith('.pid'))), [], 'no berth-proxy runs for nat devices');

      assert.deepEqual(await syncProxies({ berthDir, instance, pid: process.pid, devices, nat }), { started: [], stopped: [] });
      // Another port for web: its rules are replaced, dns is kept.
      const moved = await freePort();
      const changed = { ...devices, web: proxyDeviceOf('web', { listen: `tcp:127.0.0.1:${moved}`, connect: 'tcp:0.0.0.0:80', nat: 'true' }, nics) };
      assert.deepEqual(await syncProxies({ berthDir, instance, pid: process.pid, devices: changed, nat }), { started: ['web'], stopped: ['web'] });
      assert.equal(await curl(`http://127.0.0.1:${moved}/`), `hello from ${target} to ${gateway}\n`);
      assert.equal(await routeLocalnet(), '1');

      await stopProxies(berthDir, instance, nat);
      assert.equal(await nat.forwardExists(webId), false);
      assert.equal(await nat.forwardExists(portForwardId(berthDir, instance, 'dns')), false);
      assert.equal(await routeLocalnet(), '0');
      assert.deepEqual((await readdir(join(berthDir, 'containers', instance))).filter((f) => f.endsWith('.nat')), []);
      await assert.rejects(curl(`http://127.0.0.1:${moved}/`), /Connection refused|Failed to connect/);
    });
  }

  it('refuses a listen address the host does not have, and undoes the devices it had installed in that sync', async () => {
    const nat = new NftablesNat();
    const nics = { eth0: { network: bridge, address: target } };
    const devices = {
      a: proxyDeviceOf('a', { listen: `tcp:127.0.0.1:${await freePort()}`, connect: 'tcp:0.0.0.0:80', nat: 'true' }, nics),
      b: proxyDeviceOf('b', { listen: 'tcp:192.0.2.200:80', connect: 'tcp:0.0.0.0:80', nat: 'true' }, nics),
    };
    await assert.rejects(
      syncProxies({ berthDir, instance, pid: process.pid, devices, nat }),
      (e: unknown) => e instanceof ValidationError && e.message === 'Invalid devices["b"]["listen"]: 192.0.2.200 is not an address of this host (nat=true listens on one of the host\'s own addresses)',
    );
    assert.equal(await nat.forwardExists(portForwardId(berthDir, instance, 'a')), false);
    assert.equal(await routeLocalnet(), '0');
    assert.deepEqual((await readdir(join(berthDir, 'containers', instance))).filter((f) => f.endsWith('.nat')), []);
  });
});
