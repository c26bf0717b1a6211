import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ListNetworkUsersQuery } from '#network';
import { DEFAULT_PROFILE, fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { ListNetworkUsersHandler } from './list-network-users.handler.js';

const BARE = { name: 'bare', config: {}, devices: { root: { type: 'disk', path: '/', pool: 'default' } } };

/** Stored out of order; the repository lists them by name. */
const handler = new ListNetworkUsersHandler(
  fakeRepository(
    new Journal(),
    instanceOf('web'),
    instanceOf('db', { devices: { eth0: { type: 'nic', network: 'lan', name: 'eth0' } } }),
    instanceOf('app', { devices: { eth1: { type: 'nic', nictype: 'macvlan', parent: 'berthbr0' } } }, [BARE]),
    instanceOf('ib', { devices: { ib0: { type: 'infiniband', nictype: 'physical', parent: 'berthbr0' } } }, [BARE]),
    instanceOf('box', {}, [BARE]),
    instanceOf('api', {}, [BARE, DEFAULT_PROFILE]),
  ),
);

describe('ListNetworkUsersHandler', () => {
  it('names, by name, the instances with a nic of their expanded devices on the network (`network` or `parent`)', async () => {
    assert.deepEqual(await handler.execute(new ListNetworkUsersQuery('berthbr0')), ['api', 'app', 'web']);
  });

  it('counts an instance\'s own nic over the profile\'s it replaces', async () => {
    assert.deepEqual(await handler.execute(new ListNetworkUsersQuery('lan')), ['db']);
  });

  it('answers none for a network no nic is on', async () => {
    assert.deepEqual(await handler.execute(new ListNetworkUsersQuery('unused')), []);
  });
});
