import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlreadyExistsError, NotFoundError, ValidationError } from '#core';
import { NetworkInUseError } from '../../domain/network.errors.js';
import { networkFixture } from '../../testing/fakes.js';
import { RenameNetworkCommand } from './rename-network.command.js';
import { RenameNetworkHandler } from './rename-network.handler.js';

function setup(instances: Record<string, string[]> = {}, profiles: Record<string, string[]> = {}) {
  const f = networkFixture([
    { name: 'lan', config: { 'ipv4.address': '10.10.0.1/24' } },
    { name: 'dmz', config: { 'ipv4.address': '10.20.0.1/24' } },
  ], { instances, profiles });
  return { ...f, handler: new RenameNetworkHandler(f.networks.port, f.host.port, f.usage, f.events.port) };
}

describe('RenameNetworkHandler', () => {
  it('renames the network on the host, then its row, and publishes network-renamed with the old name', async () => {
    const { networks, host, events, handler } = setup();
    await handler.execute(new RenameNetworkCommand('lan', 'office'));
    assert.deepEqual(host.calls, ['rename lan office']);
    assert.deepEqual(networks.rows.map((r) => r.name), ['office', 'dmz']);
    assert.deepEqual(events.published.map((e) => [e.action, e.name, e.context]), [['network-renamed', 'office', { old_name: 'lan' }]]);
  });

  it('refuses a missing or bad new name before anything else', async () => {
    const { host, handler } = setup();
    for (const [newName, message] of [
      [undefined, 'Invalid name: a new network name is required'],
      ['', 'Invalid name: a new network name is required'],
      ['no/slash', 'Invalid name: must not contain "/"'],
    ] as const) {
      await assert.rejects(handler.execute(new RenameNetworkCommand('lan', newName)), (e: unknown) => e instanceof ValidationError && e.message === message);
    }
    assert.deepEqual(host.calls, []);
  });

  it('refuses a network in use by instances or profiles (400, instances first), and a taken name (409)', async () => {
    const { networks, host, events, handler } = setup({ lan: ['/1.0/instances/c1'] }, { lan: ['/1.0/profiles/default'] });
    await assert.rejects(
      handler.execute(new RenameNetworkCommand('lan', 'office')),
      (e: unknown) => e instanceof NetworkInUseError && e.code === 'RESOURCE.IN_USE' && e.message === 'Network "lan" is currently in use by: /1.0/instances/c1, /1.0/profiles/default',
    );
    for (const taken of ['dmz', 'lan']) {
      await assert.rejects(
        setup().handler.execute(new RenameNetworkCommand('lan', taken)),
        (e: unknown) => e instanceof AlreadyExistsError && e.message === `Network "${taken}" already exists`,
      );
    }
    await assert.rejects(handler.execute(new RenameNetworkCommand('nope', 'office')), NotFoundError);
    assert.deepEqual(host.calls, []);
    assert.deepEqual(networks.rows.map((r) => r.name), ['lan', 'dmz']);
    assert.deepEqual(events.published, []);
  });

  it('keeps the row when the host fails to rename', async () => {
    const { networks, host, handler } = setup();
    host.failures.rename = new Error('interface office exists on the host');
    await assert.rejects(handler.execute(new RenameNetworkCommand('lan', 'office')), /interface office exists/);
    assert.deepEqual(host.calls, []);
    assert.deepEqual(networks.rows.map((r) => r.name), ['lan', 'dmz']);
  });

  it('renames the host side back when the row cannot be written', async () => {
    const { networks, host, events, handler } = setup();
    networks.failWrites = new AlreadyExistsError('Network "office" already exists');
    await assert.rejects(handler.execute(new RenameNetworkCommand('lan', 'office')), AlreadyExistsError);
    assert.deepEqual(host.calls, ['rename lan office', 'rename office lan']);
    assert.deepEqual(networks.rows.map((r) => r.name), ['lan', 'dmz']);
    assert.deepEqual(events.published, []);
  });
});
