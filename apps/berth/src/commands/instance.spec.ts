import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { InstanceFull } from '../api.js';
import { UsageError } from '../errors.js';
import { renderList, renderYaml } from '../format.js';
import {
  addressCell,
  filterValue,
  initBody,
  initRequest,
  INSTANCE_COLUMNS,
  instanceDocument,
  instanceFilter,
  nameExpression,
  parseDeviceOptions,
  parseInstanceYaml,
  parseProfileList,
  setDeviceOptions,
  writableInstance,
  type InitOptions,
} from './instance.js';

const instance = (extra: Partial<InstanceFull> = {}): InstanceFull => ({
  name: 'web1',
  description: '',
  status: 'Stopped',
  status_code: 102,
  type: 'container',
  architecture: 'x86_64',
  ephemeral: false,
  stateful: false,
  profiles: ['default', 'web'],
  config: { 'user.team': 'ops', 'volatile.last_state.ready': 'true' },
  devices: { data: { type: 'disk', source: '/srv', path: '/srv' } },
  expanded_config: { 'limits.cpu': '2', 'user.team': 'ops', 'volatile.last_state.ready': 'true' },
  expanded_devices: { root: { type: 'disk', path: '/', pool: 'default' }, data: { type: 'disk', source: '/srv', path: '/srv' } },
  created_at: '2025-01-01T00:00:00Z',
  last_used_at: '1970-01-01T00:00:00Z',
  ...extra,
});

const usage = (message: RegExp) => (err: unknown) => err instanceof UsageError && message.test(err.message);

describe('instanceFilter', () => {
  it('is absent without filters', () => {
    assert.equal(instanceFilter([]), undefined);
  });

  it('turns key=value into eq clauses: instance fields as they are, other keys as config keys', () => {
    assert.equal(instanceFilter(['status=running']), 'status eq running');
    assert.equal(instanceFilter(['user.team=ops']), 'config.user.team eq ops');
    assert.equal(instanceFilter(['limits.cpu=2', 'type=container']), 'config.limits.cpu eq 2 and type eq container');
    assert.equal(instanceFilter(['expanded_config.limits.cpu=2']), 'expanded_config.limits.cpu eq 2');
    assert.equal(instanceFilter(['config.user.a=b=c']), 'config.user.a eq b=c');
  });

  it('puts name clauses first, whatever the order given', () => {
    assert.equal(instanceFilter(['user.team=ops', 'web']), 'name eq ^web and config.user.team eq ops');
  });

  it('quotes values holding spaces or quotes, and empty values', () => {
    assert.equal(instanceFilter(['user.note=two words']), 'config.user.note eq "two words"');
    assert.equal(instanceFilter(['user.note=say "hi"\\']), 'config.user.note eq "say \\"hi\\"\\\\"');
    assert.equal(instanceFilter(['user.note=']), 'config.user.note eq ""');
  });

  it('refuses an empty key or a key with spaces', () => {
    assert.throws(() => instanceFilter(['=x']), usage(/^invalid filter "=x": expected <key>=<value>$/));
    assert.throws(() => instanceFilter(['a b=x']), usage(/^invalid filter "a b=x"/));
    assert.throws(() => instanceFilter(['']), usage(/^invalid filter ""/));
  });
});

describe('nameExpression', () => {
  it('reads a plain word as a prefix, as lxc does', () => {
    const re = new RegExp(nameExpression('web'));
    assert.equal(nameExpression('web'), '^web');
    assert.ok(re.test('web1') && re.test('web') && !re.test('myweb'));
  });

  it('reads a regular expression as matching the whole name, or as a literal prefix', () => {
    const re = new RegExp(nameExpression('web[0-9]'));
    assert.ok(re.test('web1'));
    assert.ok(!re.test('web1x'));
    assert.ok(!re.test('web'));
    assert.ok(new RegExp(nameExpression('a.c')).test('abc'));
  });

  it('keeps an anchored expression as it is, and an invalid one as a literal prefix', () => {
    assert.equal(nameExpression('.*web.*01$'), '.*web.*01$');
    assert.equal(nameExpression('^db'), '^db');
    const literal = nameExpression('web(');
    assert.equal(literal, '^web\\(');
    assert.ok(new RegExp(literal).test('web(1'));
  });

  it('survives the quoting of the filter language', () => {
    assert.equal(filterValue('^web\\d'), '^web\\d');
    assert.equal(filterValue('a b'), '"a b"');
  });
});

describe('list columns', () => {
  it('shows lxc\'s default columns and the time to Ready', () => {
    assert.equal(renderList([instance()], INSTANCE_COLUMNS, 'csv'), 'web1,STOPPED,,,CONTAINER,0,');
    assert.equal(
      renderList([instance({ ephemeral: true, snapshots: [{}, {}] })], INSTANCE_COLUMNS, 'csv'),
      'web1,STOPPED,,,CONTAINER (EPHEMERAL),2,',
    );
  });

  it('shows global addresses with their interface, one per line, without loopback or link-local', () => {
    const running = instance({
      status: 'Running',
      state: {
        status: 'Running',
        status_code: 103,
        pid: 42,
        processes: 10,
        network: {
          lo: { type: 'loopback', addresses: [{ family: 'inet', address: '127.0.0.1', netmask: '8', scope: 'local' }] },
          eth0: {
            type: 'broadcast',
            addresses: [
              { family: 'inet', address: '10.0.0.2', netmask: '24', scope: 'global' },
              { family: 'inet6', address: 'fe80::1', netmask: '64', scope: 'link' },
              { family: 'inet6', address: 'fd42::2', netmask: '64', scope: 'global' },
            ],
          },
          eth1: { type: 'broadcast', addresses: [{ family: 'inet', address: '10.1.0.2', netmask: '24', scope: 'global' }] },
        },
      },
    });
    assert.equal(addressCell(running, 'inet'), '10.1.0.2 (eth1)\n10.0.0.2 (eth0)');
    assert.equal(addressCell(running, 'inet6'), 'fd42::2 (eth0)');
    assert.equal(addressCell(instance({ state: null }), 'inet'), '');
  });
});

describe('init', () => {
  const options = (extra: Partial<InitOptions> = {}): InitOptions => ({
    empty: false,
    profile: [],
    profiles: true,
    config: {},
    ephemeral: false,
    ...extra,
  });

  it('reads init <name> --empty and init <image> <name>', () => {
    assert.deepEqual(initRequest('c1', undefined, options({ empty: true })), { name: 'c1' });
    assert.deepEqual(initRequest('debian/12', 'c1', options()), { image: 'debian/12', name: 'c1' });
  });

  it('refuses an image with --empty, and a missing image or name', () => {
    assert.throws(() => initRequest('img', 'c1', options({ empty: true })), usage(/^--empty creates an instance without an image/));
    assert.throws(() => initRequest(undefined, undefined, options({ empty: true })), usage(/^missing the instance name/));
    assert.throws(() => initRequest('c1', undefined, options()), usage(/^expected berth init <image> <name>, or berth init <name> --empty$/));
    assert.throws(
      () => initRequest('c1', undefined, options({ empty: true, profile: ['a'], profiles: false })),
      usage(/^--profile and --no-profiles cannot be used together$/),
    );
  });

  it('asks for the given profiles, none with --no-profiles, or leaves the default to the server', () => {
    const none = { type: 'none' } as const;
    assert.deepEqual(initBody('c1', none, options({ profile: ['default', 'web'], config: { 'user.a': '1' }, ephemeral: true })), {
      name: 'c1',
      type: 'container',
      source: none,
      profiles: ['default', 'web'],
      config: { 'user.a': '1' },
      devices: {},
      ephemeral: true,
    });
    assert.deepEqual(initBody('c1', none, options({ profiles: false })).profiles, []);
    assert.equal(Object.hasOwn(initBody('c1', none, options()), 'profiles'), false);
  });
});

describe('instance documents', () => {
  it('shows the instance\'s own or expanded config and devices, keys sorted', () => {
    const own = instanceDocument(instance());
    assert.deepEqual(Object.keys(own), ['name', 'architecture', 'config', 'devices', 'ephemeral', 'profiles', 'stateful', 'description']);
    assert.deepEqual(own.config, { 'user.team': 'ops', 'volatile.last_state.ready': 'true' });
    const expanded = instanceDocument(instance(), true);
    assert.deepEqual(Object.keys(expanded.devices), ['data', 'root']);
    assert.equal(expanded.config['limits.cpu'], '2');
  });

  it('never sends volatile keys back', () => {
    assert.deepEqual(writableInstance(instance()), {
      description: '',
      config: { 'user.team': 'ops' },
      devices: { data: { type: 'disk', source: '/srv', path: '/srv' } },
      profiles: ['default', 'web'],
      ephemeral: false,
    });
  });

  it('reads back what it shows, dropping unchanged volatile keys', () => {
    const text = renderYaml(instanceDocument(instance())).replace('user.team: ops', 'user.team: data\n  limits.cpu: 1');
    assert.deepEqual(parseInstanceYaml(text, instance()), {
      description: '',
      config: { 'user.team': 'data', 'limits.cpu': '1' },
      devices: { data: { type: 'disk', source: '/srv', path: '/srv' } },
      profiles: ['default', 'web'],
      ephemeral: false,
    });
  });

  it('sends a changed or added volatile key, for the server to refuse', () => {
    const put = parseInstanceYaml('config:\n  volatile.last_state.ready: "false"\n  volatile.x: "1"\n', instance());
    assert.deepEqual(put.config, { 'volatile.last_state.ready': 'false', 'volatile.x': '1' });
  });

  it('refuses changes to read-only fields, unknown fields and wrong types', () => {
    const cases: [string, RegExp][] = [
      ['name: web2\n', /^invalid instance: the name cannot be changed here \(use "berth rename web1 <new>"\)$/],
      ['architecture: aarch64\n', /^invalid instance: architecture cannot be changed$/],
      ['stateful: true\n', /^invalid instance: stateful cannot be changed$/],
      ['colour: red\n', /^invalid instance: unknown field "colour"$/],
      ['ephemeral: maybe\n', /^invalid instance: ephemeral must be true or false$/],
      ['devices: [a]\n', /^invalid instance: devices must be a mapping of device names$/],
      ['devices:\n  d: 1\n', /^invalid instance: devices\.d must be a mapping$/],
      ['profiles: default\n', /^invalid instance: profiles must be a list of names$/],
      ['config: [1\n', /^invalid YAML: /],
      ['', /^invalid instance: expected a YAML mapping/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseInstanceYaml(text, instance()), usage(message), text);
  });

  it('accepts the read-only fields left as they are', () => {
    const put = parseInstanceYaml('name: web1\narchitecture: x86_64\nstateful: false\nprofiles: []\n', instance());
    assert.deepEqual(put.profiles, []);
    assert.deepEqual(parseYaml(renderYaml(put)), put);
  });
});

describe('device and profile arguments', () => {
  it('reads device options as key=value only', () => {
    assert.deepEqual(parseDeviceOptions(['path=/srv', 'source=/data=x']), { path: '/srv', source: '/data=x' });
    assert.deepEqual(parseDeviceOptions([]), {});
    assert.throws(() => parseDeviceOptions(['path']), usage(/^invalid device option "path": expected <key>=<value>$/));
    assert.throws(() => parseDeviceOptions(['=x']), usage(/^invalid device option "=x"/));
  });

  it('sets and unsets device options, but never the type away', () => {
    const device = { type: 'disk', path: '/srv', readonly: 'true' };
    assert.deepEqual(setDeviceOptions(device, { path: '/data', readonly: '' }), { type: 'disk', path: '/data' });
    assert.throws(() => setDeviceOptions(device, { type: '' }), usage(/^a device's type cannot be removed$/));
  });

  it('reads a comma-separated profile list, empty for none', () => {
    assert.deepEqual(parseProfileList('default,web'), ['default', 'web']);
    assert.deepEqual(parseProfileList(''), []);
    assert.throws(() => parseProfileList('default,,web'), usage(/^invalid profile list "default,,web": empty profile name$/));
  });
});
