import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, DomainError, ValidationError } from '#core';
import { formatSubnet } from '../../domain/ipv4.js';
import { networkFixture } from '../../testing/fakes.js';
import { CreateNetworkCommand } from './create-network.command.js';
import { CreateNetworkHandler } from './create-network.handler.js';

function setup() {
  const f = networkFixture([{ name: 'lan', config: { 'ipv4.address': '10.10.0.1/24' } }]);
  return { ...f, handler: new CreateNetworkHandler(f.networks.port, f.host.port, f.events.port) };
}

describe('CreateNetworkHandler', () => {
  it('resolves the config with LXD defaults (auto address, NAT), brings it up on the host, then writes the row and publishes network-created', async () => {
    const { networks, host, events, handler } = setup();
    await handler.execute(new CreateNetworkCommand('web', 'front', { 'dns.domain': 'web.test' }));
    assert.deepEqual(host.calls, ['create web 10.99.0.1/24']);
    assert.deepEqual(host.reserved.map(formatSubnet), ['10.10.0.0/24'], "the other networks' subnets are not free");
    assert.equal(networks.row('web')?.description, 'front');
    assert.deepEqual(networks.row('web')?.config, { 'ipv4.address': '10.99.0.1/24', 'ipv4.nat': 'true', 'dns.domain': 'web.test' });
    assert.deepEqual(events.published.map((e) => [e.action, e.name]), [['network-created', 'web']]);
  });

  it('keeps an explicit address and NAT setting', async () => {
    const { networks, handler } = setup();
    await handler.execute(new CreateNetworkCommand('web', undefined, { 'ipv4.address': '10.20.0.1/24', 'ipv4.nat': 'false' }));
    assert.deepEqual(networks.row('web')?.config, { 'ipv4.address': '10.20.0.1/24', 'ipv4.nat': 'false' });
  });

  it('refuses a bad name, description or config before the host is touched', async () => {
    const { networks, host, events, handler } = setup();
    for (const cmd of [
      new CreateNetworkCommand('no/slash', '', {}),
      new CreateNetworkCommand('web', 42, {}),
      new CreateNetworkCommand('web', '', { 'bogus.key': '1' }),
      new CreateNetworkCommand('web', '', { 'ipv4.address': '10.0.0.1/33' }),
      new CreateNetworkCommand('web', '', {}, 'macvlan'),
    ]) {
      await assert.rejects(handler.execute(cmd), (e: unknown) => e instanceof ValidationError && e.code === 'REQUEST.INVALID');
    }
    assert.deepEqual(host.calls, []);
    assert.deepEqual(networks.rows.map((r) => r.name), ['lan']);
    assert.deepEqual(events.published, []);
  });

  it('refuses a taken name (409) without touching the host', async () => {
    const { host, handler } = setup();
    await assert.rejects(
      handler.execute(new CreateNetworkCommand('lan', '', {})),
      (e: unknown) => e instanceof AlreadyExistsError && e.code === 'RESOURCE.ALREADY_EXISTS' && e.message === 'Network "lan" already exists',
    );
    assert.deepEqual(host.calls, []);
  });

  it('writes no row when the host fails', async () => {
    const { networks, host, events, handler } = setup();
    host.failures.create = new Error('dnsmasq did not start');
    await assert.rejects(handler.execute(new CreateNetworkCommand('web', '', {})), /dnsmasq did not start/);
    assert.equal(networks.row('web'), undefined);
    assert.deepEqual(events.published, []);
  });

  it('removes the network from the host again when the row cannot be written (the name was taken meanwhile)', async () => {
    const { networks, host, events, handler } = setup();
    networks.failWrites = new AlreadyExistsError('Network "web" already exists');
    await assert.rejects(handler.execute(new CreateNetworkCommand('web', '', {})), (e: unknown) => e instanceof DomainError && e.code === 'RESOURCE.ALREADY_EXISTS');
    assert.deepEqual(host.calls, ['create web 10.99.0.1/24', 'delete web']);
    assert.deepEqual(events.published, []);
  });
});
