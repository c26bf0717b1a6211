import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateMac } from '../../libs/network/src/domain/mac.js';
import { hostVethName } from '../../libs/network/src/domain/names.js';
import { NetworkCommandError, NicAlreadyExistsError } from '../../libs/network/src/domain/network.errors.js';
import { ifbNameFor } from '../../libs/network/src/domain/shaping.js';
import { IpForwarding } from '../../libs/network/src/infrastructure/ip-forwarding.js';
import { applyNicLimits, readNicLimits } from '../../libs/network/src/infrastructure/traffic-shaper.js';
import { createVethNic, deleteVethNic } from '../../libs/network/src/infrastructure/veth.js';
import { hostSnapshot, sh, stop, waitFor, type HostSnapshot } from './support.js';

const SYSCTL = '/proc/sys/net/ipv4/ip_forward';
const tag = process.pid.toString(36);
const readForwarding = async () => (await readFile(SYSCTL, 'utf8')).trim();

describe('ip forwarding is reference-counted across networks and daemons', { concurrency: false }, () => {
  let registry: string;
  let initial: string;
  before(async () => {
    registry = await mkdtemp(join(tmpdir(), 'berth-fwd-'));
    initial = await readForwarding();
  });
  after(async () => {
    await writeFile(SYSCTL, initial);
    await rm(registry, { recursive: true, force: true });
  });

  it('stays on while any holder remains and is restored by the last one', async () => {
    const forwarding = new IpForwarding(registry);
    await forwarding.acquire('/a/networks/br0');
    await forwarding.acquire('/b/networks/br0');
    assert.equal(await readForwarding(), '1');
    await forwarding.release('/a/networks/br0');
    assert.equal(await readForwarding(), '1');
    assert.deepEqual(await forwarding.holders(), ['/b/networks/br0']);
    await forwarding.release('/b/networks/br0');
    assert.equal(await readForwarding(), initial);
  });

  it('serializes concurrent holders, from separate instances', async () => {
    const holders = Array.from({ length: 12 }, (_, i) => `/d${i}/networks/br`);
    await Promise.all(holders.map((h) => new IpForwarding(registry).acquire(h)));
    assert.equal(await readForwarding(), '1');
    assert.equal((await new IpForwarding(registry).holders()).length, holders.length);
    await Promise.all(holders.map((h) => new IpForwarding(registry).release(h)));
    assert.equal(await readForwarding(), initial);
  });

  it('leaves forwarding on when it was on before Berth came', async () => {
    await writeFile(SYSCTL, '1');
    const forwarding = new IpForwarding(registry);
    await forwarding.acquire('/c/networks/br0');
    await forwarding.release('/c/networks/br0');
    assert.equal(await readForwarding(), '1');
  });
});

describe('veth nics in the namespace of a process', { concurrency: false }, () => {
  const bridge = `btsn${tag}`;
  // Named after a uuid standing in for the instance's volatile.uuid.
  const uuid = randomUUID();
  const hostName = hostVethName(uuid, 'eth0');
  const otherHost = hostVethName(uuid, 'eth1');
  const mac = generateMac();
  let holder: ChildProcess;
  let snapshot: HostSnapshot;
  let pid: number;
  const inside = (...args: string[]) => sh('nsenter', `--net=/proc/${pid}/ns/net`, '--', 'ip', ...args);

  before(async () => {
    snapshot = await hostSnapshot();
    // A process in a namespace of its own stands in for a container's init.
    holder = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    pid = holder.pid!;
    const own = await readlink('/proc/self/ns/net');
    await waitFor('the new namespace', async () => ((await readlink(`/proc/${pid}/ns/net`)) !== own ? true : undefined));
    await sh('ip', 'link', 'add', 'name', bridge, 'type', 'bridge');
    await sh('ip', 'link', 'set', bridge, 'up');
  });

  after(async () => {
    for (const link of [hostName, otherHost, ifbNameFor(hostName), bridge]) await sh('ip', 'link', 'delete', link).catch(() => undefined);
    await stop(holder);
  });

  it('creates the pair with the inner end named, addressed and sized inside, and shaped on the host end', async () => {
    await createVethNic({ hostName, bridge, netns: { pid }, name: 'eth0', mac, mtu: 1400, limits: { ingress: 5e6, egress: 3e6 } });
    const [innerEnd] = JSON.parse(await inside('-j', 'link', 'show', 'dev', 'eth0')) as Array<{ address: string; mtu: number; flags: string[] }>;
    assert.equal(innerEnd!.address, mac);
    assert.equal(innerEnd!.mtu, 1400);
    assert.ok(innerEnd!.flags.includes('UP'));
    const [hostEnd] = JSON.parse(await sh('ip', '-j', 'link', 'show', 'dev', hostName)) as Array<{ master: string; mtu: number; flags: string[] }>;
    assert.equal(hostEnd!.master, bridge);
    assert.equal(hostEnd!.mtu, 1400);
    assert.ok(hostEnd!.flags.includes('UP'));
    assert.deepEqual(await readNicLimits(hostName), { ingress: 5e6, egress: 3e6 });
    // The container end never shows up on the host.
    assert.equal((await sh('ip', '-j', 'link', 'show')).includes(`"address":"${mac}"`), false);
  });

  it('refuses a taken host name or a taken inner name, leaving nothing new behind', async () => {
    const during = await hostSnapshot();
    await assert.rejects(createVethNic({ hostName, bridge, netns: { pid }, name: 'eth1', mac: generateMac() }), (e: unknown) => e instanceof NicAlreadyExistsError && e.code === 'NETWORK.NIC_ALREADY_EXISTS');
    await assert.rejects(createVethNic({ hostName: otherHost, bridge, netns: { pid }, name: 'eth0', mac: generateMac() }), (e: unknown) => e instanceof NicAlreadyExistsError && e.device === 'eth0');
    assert.deepEqual(await hostSnapshot(), during);
    assert.deepEqual((JSON.parse(await inside('-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname).sort(), ['eth0', 'lo']);
  });

  it('reports a failed host command with its command line and stderr', async () => {
    await assert.rejects(applyNicLimits(`btnone${tag}`, { ingress: 1e6 }), (e: unknown) =>
      e instanceof NetworkCommandError &&
      e.code === 'NETWORK.COMMAND_FAILED' &&
      e.command[0] === 'tc' &&
      e.command.includes(`btnone${tag}`) &&
      /Cannot find device/.test(e.stderr) &&
      e.message.startsWith(`tc -j qdisc show dev btnone${tag} failed (exit 1): Cannot find device`));
  });

  it('deletes the pair and its shaping device', async () => {
    assert.equal(await deleteVethNic(hostName), true);
    assert.deepEqual((JSON.parse(await inside('-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname), ['lo']);
    await sh('ip', 'link', 'delete', bridge);
    assert.deepEqual(await hostSnapshot(), snapshot);
  });
});
