import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError, PreconditionFailedError, ValidationError } from '#core';
import { formatSubnet } from '../../domain/ipv4.js';
import { networkEtag } from '../../domain/network-etag.js';
import { networkFixture } from '../../testing/fakes.js';
import { UpdateNetworkCommand } from './update-network.command.js';
import { UpdateNetworkHandler } from './update-network.handler.js';

const LAN = { 'ipv4.address': '10.10.0.1/24', 'ipv4.nat': 'true' };

function setup() {
  const f = networkFixture([
    { name: 'lan', description: 'office', config: LAN },
    { name: 'dmz', config: { 'ipv4.address': '10.20.0.1/24' } },
  ]);
  return { ...f, handler: new UpdateNetworkHandler(f.networks.port, f.host.port, f.events.port) };
}

describe('UpdateNetworkHandler', () => {
  it('PATCH merges keys, applies the new spec on the host (the other subnets reserved), then writes the row and publishes network-updated', async () => {
    const { networks, host, events, handler } = setup();
    await handler.execute(new UpdateNetworkCommand('lan', 'merge', { config: { 'ipv4.address': '10.30.0.1/24' } }));
    assert.deepEqual(host.calls, ['update lan 10.30.0.1/24']);
    assert.deepEqual(host.reserved.map(formatSubnet), ['10.20.0.0/24']);
    assert.deepEqual({ ...networks.row('lan')?.config }, { 'ipv4.address': '10.30.0.1/24', 'ipv4.nat': 'true' });
    assert.equal(networks.row('lan')?.description, 'office', 'PATCH without a description keeps it');
    assert.deepEqual(events.published.map((e) => [e.action, e.name]), [['network-updated', 'lan']]);
  });

  it('a key given as "" unsets it, with PATCH as with PUT (lxc network unset)', async () => {
    const { networks, host, handler } = setup();
    await handler.execute(new UpdateNetworkCommand('lan', 'merge', { config: { 'ipv4.nat': '' } }));
    assert.deepEqual({ ...networks.row('lan')?.config }, { 'ipv4.address': '10.10.0.1/24' });
    await handler.execute(new UpdateNetworkCommand('lan', 'replace', { config: { 'ipv4.address': '10.10.0.1/24', 'ipv4.nat': 'true', 'dns.domain': '' } }));
    assert.deepEqual({ ...networks.row('lan')?.config }, LAN);
    assert.deepEqual(host.calls, ['update lan 10.10.0.1/24', 'update lan 10.10.0.1/24']);
  });

  it('PUT replaces the whole config and description', async () => {
    const { networks, handler } = setup();
    await handler.execute(new UpdateNetworkCommand('lan', 'replace', { config: { 'ipv4.address': '10.10.0.1/24' } }));
    assert.deepEqual({ ...networks.row('lan')?.config }, { 'ipv4.address': '10.10.0.1/24' });
    assert.equal(networks.row('lan')?.description, '');
  });

  it('leaves the host alone when the config does not change (in any key order), and still writes the description', async () => {
    const { networks, host, events, handler } = setup();
    await handler.execute(new UpdateNetworkCommand('lan', 'replace', { description: 'new', config: { 'ipv4.nat': 'true', 'ipv4.address': '10.10.0.1/24' } }));
    assert.deepEqual(host.calls, []);
    assert.equal(networks.row('lan')?.description, 'new');
    assert.equal(events.published.length, 1);
  });

  it('resolves ipv4.address=auto on the host', async () => {
    const { networks, host, handler } = setup();
    await handler.execute(new UpdateNetworkCommand('lan', 'merge', { config: { 'ipv4.address': 'auto' } }));
    assert.deepEqual(host.calls, ['update lan 10.99.0.1/24']);
    assert.equal(networks.row('lan')?.config['ipv4.address'], '10.99.0.1/24');
  });

  it('refuses a stale If-Match (412) and accepts the current ETag or *', async () => {
    const { networks, host, handler } = setup();
    await assert.rejects(
      handler.execute(new UpdateNetworkCommand('lan', 'merge', { description: 'x' }, '"stale"')),
      (e: unknown) => e instanceof PreconditionFailedError && e.code === 'RESOURCE.PRECONDITION_FAILED',
    );
    assert.equal(networks.row('lan')?.description, 'office');
    await handler.execute(new UpdateNetworkCommand('lan', 'merge', { description: 'x' }, `W/"${networkEtag(networks.row('lan')!)}"`));
    await handler.execute(new UpdateNetworkCommand('lan', 'merge', { description: 'y' }, '*'));
    assert.equal(networks.row('lan')?.description, 'y');
    assert.deepEqual(host.calls, []);
  });

  it('refuses a config without an address, or with a bad key, and changes nothing', async () => {
    const { networks, host, events, handler } = setup();
    await assert.rejects(
      handler.execute(new UpdateNetworkCommand('lan', 'replace', { config: { 'ipv4.nat': 'false' } })),
      (e: unknown) => e instanceof ValidationError && e.field === 'config["ipv4.address"]',
    );
    await assert.rejects(handler.execute(new UpdateNetworkCommand('lan', 'merge', { config: { 'bogus.key': '1' } })), (e: unknown) => e instanceof ValidationError && e.field === 'config["bogus.key"]');
    await assert.rejects(handler.execute(new UpdateNetworkCommand('nope', 'merge', {})), NotFoundError);
    assert.deepEqual(host.calls, []);
    assert.deepEqual(networks.row('lan')?.config, LAN);
    assert.deepEqual(events.published, []);
  });

  it('writes nothing when the host refuses the new spec (the host side rolls itself back)', async () => {
    const { networks, host, events, handler } = setup();
    host.failures.update = new Error('subnet in use');
    await assert.rejects(handler.execute(new UpdateNetworkCommand('lan', 'merge', { config: { 'ipv4.address': '10.30.0.1/24' } })), /subnet in use/);
    assert.deepEqual(host.calls, []);
    assert.deepEqual(networks.row('lan')?.config, LAN);
    assert.deepEqual(events.published, []);
  });

  it('puts the previous spec back on the host when the row cannot be written', async () => {
    const { networks, host, events, handler } = setup();
    networks.failWrites = new Error('connection lost');
    await assert.rejects(handler.execute(new UpdateNetworkCommand('lan', 'merge', { config: { 'ipv4.address': '10.30.0.1/24' } })), /connection lost/);
    assert.deepEqual(host.calls, ['update lan 10.30.0.1/24', 'update lan 10.10.0.1/24']);
    assert.deepEqual(networks.row('lan')?.config, LAN);
    assert.deepEqual(events.published, []);
  });
});
