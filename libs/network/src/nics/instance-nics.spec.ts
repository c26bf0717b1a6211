import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '#core';
import { ValidationError } from '#core';
import { FakeBridgeNetworks, FakeNetworkRepository } from '../testing/fakes.js';
import { InstanceNics } from './instance-nics.js';

const silent = { info: () => undefined, warn: () => undefined } as unknown as Logger;

function setup() {
  const networks = new FakeNetworkRepository([
    { name: 'lan', config: { 'ipv4.address': '10.10.0.1/24' } },
    { name: 'dmz', config: { 'ipv4.address': '10.20.0.1/24' } },
  ]);
  const host = new FakeBridgeNetworks();
  return { host, nics: new InstanceNics(networks.port, host.port, silent) };
}

describe('InstanceNics.check', () => {
  const { nics } = setup();
  const refuses = (devices: Record<string, Record<string, string>>, message: string, others: Array<{ name: string; devices: Record<string, Record<string, string>> }> = []) =>
    assert.rejects(nics.check('c1', devices, async () => others), (e: unknown) => e instanceof ValidationError && e.message === message);

  it('accepts nics on networks that exist, static addresses inside their subnet, and devices that are not managed nics', async () => {
    await nics.check(
      'c1',
      {
        eth0: { type: 'nic', network: 'lan', 'ipv4.address': '10.10.0.5', hwaddr: '00:16:3e:00:00:01', mtu: '1400', 'limits.max': '10Mbit' },
        eth1: { type: 'nic', parent: 'dmz' },
        root: { type: 'disk', path: '/', pool: 'default' },
      },
      async () => [{ name: 'c2', devices: { eth0: { type: 'nic', network: 'dmz', 'ipv4.address': '10.10.0.5' } } }],
    );
  });

  it('reads the other instances only when a nic asks for a static address', async () => {
    await nics.check('c1', { eth0: { type: 'nic', network: 'lan' } }, async () => assert.fail('the other instances were read'));
  });

  it('refuses a network that does not exist, naming the key that names it', async () => {
    await refuses({ eth0: { type: 'nic', network: 'nope' } }, 'Invalid devices["eth0"]["network"]: network "nope" does not exist');
    await refuses({ eth1: { type: 'nic', parent: 'nope' } }, 'Invalid devices["eth1"]["parent"]: network "nope" does not exist');
  });

  it('refuses bad nic keys', async () => {
    await refuses({ eth0: { type: 'nic', network: 'lan', mtu: '20' } }, 'Invalid devices["eth0"]["mtu"]: "20" is not an MTU from 68 to 65535');
  });

  it("refuses a static address outside the network's subnet, its gateway, or one another instance holds", async () => {
    const field = 'Invalid devices["eth0"]["ipv4.address"]';
    await refuses({ eth0: { type: 'nic', network: 'lan', 'ipv4.address': 'ten' } }, `${field}: must be four dot-separated numbers`);
    await refuses({ eth0: { type: 'nic', network: 'lan', 'ipv4.address': '10.20.0.5' } }, `${field}: 10.20.0.5 is outside lan's subnet 10.10.0.1/24`);
    await refuses({ eth0: { type: 'nic', network: 'lan', 'ipv4.address': '10.10.0.1' } }, `${field}: 10.10.0.1 is lan's own address`);
    await refuses({ eth0: { type: 'nic', network: 'lan', 'ipv4.address': '10.10.0.5' } }, `${field}: 10.10.0.5 is already reserved by instance "c2"`, [
      { name: 'c2', devices: { net: { type: 'nic', parent: 'lan', 'ipv4.address': '10.10.0.5' } } },
    ]);
  });

  it("does not count the instance's own reservation as another's", async () => {
    await nics.check('c1', { eth0: { type: 'nic', network: 'lan', 'ipv4.address': '10.10.0.5' } }, async () => [{ name: 'c1', devices: { eth0: { type: 'nic', network: 'lan', 'ipv4.address': '10.10.0.5' } } }]);
  });
});

describe('InstanceNics: reservations and state', () => {
  const holder = {
    name: 'c1',
    uuid: '4b1d',
    devices: {
      eth0: { type: 'nic', network: 'lan', name: 'eth0' },
      eth1: { type: 'nic', network: 'dmz', hwaddr: '00:16:3E:00:00:11' },
      eth2: { type: 'nic', network: 'lan' },
    },
    volatile: { 'volatile.eth0.hwaddr': '00:16:3e:00:00:01', 'volatile.eth0.host_name': 'bth000000000001' },
  };

  it("forgets the DHCP reservations of the nics that have a MAC, on their networks", async () => {
    const { host, nics } = setup();
    await nics.forget(holder);
    assert.deepEqual(host.calls, ['removeHost lan 00:16:3e:00:00:01', 'removeHost dmz 00:16:3E:00:00:11']);
  });

  it("shows each nic with a MAC by its name inside: its lease's address, its host end when recorded", async () => {
    const { host, nics } = setup();
    host.leasesOf.lan = [{ mac: '00:16:3E:00:00:01', ipv4: '10.10.0.7', hostname: 'c1', expiresAt: null, clientId: null }];
    assert.deepEqual(await nics.addresses(holder), {
      eth0: { addresses: [{ family: 'inet', address: '10.10.0.7', netmask: '24', scope: 'global' }], hwaddr: '00:16:3e:00:00:01', host_name: 'bth000000000001', state: 'up', type: 'broadcast' },
      eth1: { addresses: [], hwaddr: '00:16:3E:00:00:11', state: 'up', type: 'broadcast' },
    });
  });

  it('answers the MACs to record for nics without one', () => {
    const { nics } = setup();
    const changes = nics.assignMacs(holder.devices, holder.volatile);
    assert.deepEqual(Object.keys(changes), ['volatile.eth2.hwaddr']);
    assert.match(changes['volatile.eth2.hwaddr']!, /^00:16:3e(:[0-9a-f]{2}){3}$/);
  });
});
