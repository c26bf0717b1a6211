import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '#core';
import { NetworkInUseError } from '../../domain/network.errors.js';
import { networkFixture } from '../../testing/fakes.js';
import { DeleteNetworkCommand } from './delete-network.command.js';
import { DeleteNetworkHandler } from './delete-network.handler.js';

function setup(instances: Record<string, string[]> = {}, profiles: Record<string, string[]> = {}) {
  const f = networkFixture([{ name: 'lan', config: { 'ipv4.address': '10.10.0.1/24' } }], { instances, profiles });
  return { ...f, handler: new DeleteNetworkHandler(f.networks.port, f.host.port, f.usage, f.events.port) };
}

describe('DeleteNetworkHandler', () => {
  it('removes the network from the host, then its row, and publishes network-deleted', async () => {
    const { networks, host, events, handler } = setup();
    await handler.execute(new DeleteNetworkCommand('lan'));
    assert.deepEqual(host.calls, ['delete lan']);
    assert.deepEqual(networks.rows, []);
    assert.deepEqual(events.published.map((e) => [e.action, e.name]), [['network-deleted', 'lan']]);
  });

  it('answers 404 for a network it does not know', async () => {
    const { host, handler } = setup();
    await assert.rejects(handler.execute(new DeleteNetworkCommand('nope')), (e: unknown) => e instanceof NotFoundError && e.message === 'Network not found: "nope"');
    assert.deepEqual(host.calls, []);
  });

  it('refuses a network instances use (400, naming them) and changes nothing', async () => {
    const { networks, host, events, handler } = setup({ lan: ['/1.0/instances/c1', '/1.0/instances/c2'] });
    await assert.rejects(
      handler.execute(new DeleteNetworkCommand('lan')),
      (e: unknown) =>
        e instanceof NetworkInUseError &&
        e.code === 'RESOURCE.IN_USE' &&
        e.message === 'Network "lan" is currently in use by: /1.0/instances/c1, /1.0/instances/c2' &&
        JSON.stringify(e.details) === JSON.stringify({ used_by: ['/1.0/instances/c1', '/1.0/instances/c2'] }),
    );
    assert.deepEqual(host.calls, []);
    assert.deepEqual(networks.rows.map((r) => r.name), ['lan']);
    assert.deepEqual(events.published, []);
  });

  it("holds a network for instances only: a profile's nic on it does not refuse the delete", async () => {
    const { networks, handler } = setup({}, { lan: ['/1.0/profiles/default'] });
    await handler.execute(new DeleteNetworkCommand('lan'));
    assert.deepEqual(networks.rows, []);
  });

  it('keeps the row when the host fails to remove the network', async () => {
    const { networks, host, events, handler } = setup();
    host.failures.delete = new Error('nft delete table failed');
    await assert.rejects(handler.execute(new DeleteNetworkCommand('lan')), /nft delete table failed/);
    assert.deepEqual(networks.rows.map((r) => r.name), ['lan']);
    assert.deepEqual(events.published, []);
  });
});
