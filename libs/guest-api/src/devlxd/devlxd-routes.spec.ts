import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answer, changes, type GuestInstance } from './devlxd-routes.js';

const web: GuestInstance = {
  name: 'web',
  status: 'Running',
  config: {
    'user.foo': 'bar',
    'user.meta-data': 'availability-zone: here\n',
    'cloud-init.user-data': '#cloud-config\n{}\n',
    'limits.memory': '1GiB',
    'volatile.eth0.hwaddr': '00:16:3e:00:00:01',
    'volatile.cloud-init.instance-id': '7b1c',
  },
  devices: { eth0: { type: 'nic', network: 'berthbr0', name: 'eth0' }, root: { type: 'disk', path: '/', pool: 'default' } },
};

describe('devlxd answers', () => {
  it('GET / and /1.0: bare JSON, the state the guest declared', () => {
    assert.deepEqual(answer(web, 'GET', '/'), { status: 200, kind: 'json', body: ['/1.0'] });
    assert.deepEqual(answer(web, 'GET', '/1.0'), { status: 200, kind: 'json', body: { api_version: '1.0', location: 'none', instance_type: 'container', state: 'Started' } });
    assert.equal((answer({ ...web, status: 'Ready' }, 'GET', '/1.0') as { body: { state: string } }).body.state, 'Ready');
  });

  it('lists only user.* and cloud-init.* keys, hands a raw value, refuses other namespaces (403) and missing keys (404)', () => {
    assert.deepEqual(answer(web, 'GET', '/1.0/config'), { status: 200, kind: 'json', body: ['/1.0/config/cloud-init.user-data', '/1.0/config/user.foo', '/1.0/config/user.meta-data'] });
    assert.deepEqual(answer(web, 'GET', '/1.0/config/user.foo'), { status: 200, kind: 'raw', body: 'bar' });
    assert.deepEqual(answer(web, 'GET', '/1.0/config/limits.memory'), { status: 403, kind: 'text', body: 'not authorized' });
    assert.deepEqual(answer(web, 'GET', '/1.0/config/volatile.eth0.hwaddr'), { status: 403, kind: 'text', body: 'not authorized' });
    assert.deepEqual(answer(web, 'GET', '/1.0/config/user.none'), { status: 404, kind: 'text', body: 'not found' });
  });

  it('meta-data: #cloud-config, the cloud-init instance-id (else the name), the hostname, then user.meta-data', () => {
    assert.deepEqual(answer(web, 'GET', '/1.0/meta-data'), { status: 200, kind: 'raw', body: '#cloud-config\ninstance-id: 7b1c\nlocal-hostname: web\navailability-zone: here\n' });
    const bare = { ...web, config: {} };
    assert.deepEqual(answer(bare, 'GET', '/1.0/meta-data'), { status: 200, kind: 'raw', body: '#cloud-config\ninstance-id: web\nlocal-hostname: web\n' });
  });

  it('devices: expanded, a nic with the MAC it was given', () => {
    const { body } = answer(web, 'GET', '/1.0/devices') as { body: Record<string, Record<string, string>> };
    assert.deepEqual(body.eth0, { type: 'nic', network: 'berthbr0', name: 'eth0', hwaddr: '00:16:3e:00:00:01' });
    assert.deepEqual(body.root, { type: 'disk', path: '/', pool: 'default' });
  });

  it('PATCH /1.0 declares Ready or Started; anything else is a 400', () => {
    assert.deepEqual(answer(web, 'PATCH', '/1.0', '{"state":"Ready"}'), { status: 0, kind: 'declare', state: 'Ready' });
    assert.deepEqual(answer(web, 'PATCH', '/1.0', '{"state":"Started"}'), { status: 0, kind: 'declare', state: 'Started' });
    assert.deepEqual(answer(web, 'PATCH', '/1.0', '{"state":"Stopped"}'), { status: 400, kind: 'text', body: 'Invalid state "Stopped"' });
    assert.deepEqual(answer(web, 'PATCH', '/1.0', '{'), { status: 400, kind: 'text', body: 'bad request' });
    assert.equal(answer(web, 'POST', '/1.0/config').status, 405);
    assert.equal(answer(web, 'GET', '/2.0').status, 404);
  });

  it('security.devlxd=false: 403 on every route', () => {
    const off = { ...web, config: { ...web.config, 'security.devlxd': 'false' } };
    for (const [method, path] of [['GET', '/'], ['GET', '/1.0'], ['GET', '/1.0/config/user.foo'], ['GET', '/1.0/meta-data'], ['PATCH', '/1.0']]) {
      assert.deepEqual(answer(off, method, path, '{"state":"Ready"}'), { status: 403, kind: 'text', body: 'not authorized' });
    }
  });

  it('events: user.* config changes with old and new values, devices added, updated and removed', () => {
    const after: GuestInstance = {
      ...web,
      config: { ...web.config, 'user.foo': 'baz', 'user.new': '1', 'limits.memory': '2GiB' },
      devices: { eth0: { ...web.devices.eth0, mtu: '1400' }, data: { type: 'disk', path: '/data', source: '/srv' } },
    };
    const now = new Date(0);
    const events = changes(web, after, new Set(['config', 'device']), now);
    assert.deepEqual(
      events.map((e) => [e.type, e.metadata]),
      [
        ['config', { key: 'user.foo', old_value: 'bar', value: 'baz' }],
        ['config', { key: 'user.new', old_value: '', value: '1' }],
        ['device', { action: 'added', name: 'data', config: { type: 'disk', path: '/data', source: '/srv' } }],
        ['device', { action: 'updated', name: 'eth0', config: { type: 'nic', network: 'berthbr0', name: 'eth0', mtu: '1400', hwaddr: '00:16:3e:00:00:01' } }],
        ['device', { action: 'removed', name: 'root', config: { type: 'disk', path: '/', pool: 'default' } }],
      ],
    );
    assert.deepEqual(changes(web, after, new Set(['device']), now).map((e) => e.type), ['device', 'device', 'device']);
  });
});
