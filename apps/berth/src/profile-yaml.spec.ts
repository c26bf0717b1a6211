import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './errors.js';
import { renderYaml } from './format.js';
import { EDIT_HEADER, parseProfileYaml, profileDocument } from './profile-yaml.js';

const web = {
  name: 'web',
  description: 'Web servers',
  config: { 'limits.cpu': '2', 'user.motd': 'hello\nworld' },
  devices: { eth0: { type: 'nic', network: 'br0' } },
  used_by: ['/1.0/instances/a'],
};

describe('profileDocument', () => {
  it('sorts config keys, devices and device options', () => {
    const document = profileDocument({
      ...web,
      config: { 'user.b': '1', 'limits.memory': '1GiB', 'limits.cpu': '2' },
      devices: { root: { type: 'disk', path: '/' }, eth0: { type: 'nic', network: 'br0' } },
    });
    assert.deepEqual(Object.keys(document.config), ['limits.cpu', 'limits.memory', 'user.b']);
    assert.deepEqual(Object.keys(document.devices), ['eth0', 'root']);
    assert.deepEqual(Object.keys(document.devices.root ?? {}), ['path', 'type']);
  });

  it('lists the fields in the order lxc shows them', () => {
    assert.deepEqual(Object.keys(profileDocument({ ...web })), [
      'name',
      'description',
      'config',
      'devices',
      'used_by',
    ]);
  });
});

describe('parseProfileYaml', () => {
  it('round-trips what the editor is given, header comments included', () => {
    const text = `${EDIT_HEADER}\n${renderYaml(profileDocument(web))}\n`;
    assert.deepEqual(parseProfileYaml(text, 'web'), {
      description: web.description,
      config: web.config,
      devices: web.devices,
    });
  });

  it('turns YAML numbers and booleans into the strings the API stores', () => {
    const text = 'config:\n  limits.cpu: 2\n  user.flag: true\ndevices:\n  root:\n    size: 10\n';
    assert.deepEqual(parseProfileYaml(text, 'web'), {
      description: '',
      config: { 'limits.cpu': '2', 'user.flag': 'true' },
      devices: { root: { size: '10' } },
    });
  });

  it('treats missing sections as empty, as a PUT replaces them', () => {
    assert.deepEqual(parseProfileYaml('description: only\n', 'web'), {
      description: 'only',
      config: {},
      devices: {},
    });
  });

  it('refuses a change of name', () => {
    assert.throws(
      () => parseProfileYaml('name: other\n', 'web'),
      new UsageError('invalid profile: the name cannot be changed here (use "berth profile rename web <new>")'),
    );
  });

  it('refuses unknown fields, naming them', () => {
    assert.throws(
      () => parseProfileYaml('descripton: typo\n', 'web'),
      new UsageError('invalid profile: unknown field "descripton"'),
    );
  });

  it('refuses nested values in config, naming the key', () => {
    assert.throws(
      () => parseProfileYaml('config:\n  limits.cpu:\n    a: 1\n', 'web'),
      new UsageError('invalid profile: config.limits.cpu must be a string'),
    );
  });

  it('refuses a device that is not a mapping', () => {
    assert.throws(
      () => parseProfileYaml('devices:\n  eth0: nic\n', 'web'),
      new UsageError('invalid profile: devices.eth0 must be a mapping'),
    );
  });

  it('refuses malformed YAML with the parser\'s first line', () => {
    assert.throws(
      () => parseProfileYaml('config: [1\n', 'web'),
      (err: unknown) =>
        err instanceof UsageError && /^invalid YAML: .* at line 2, column 1$/.test(err.message),
    );
  });

  it('refuses empty input and non-mappings', () => {
    for (const text of ['', '# nothing\n', '- a\n- b\n', 'just text\n']) {
      assert.throws(() => parseProfileYaml(text, 'web'), UsageError, JSON.stringify(text));
    }
  });

  it('keeps a "__proto__" key as data rather than a prototype', () => {
    const parsed = parseProfileYaml('config:\n  __proto__: x\n', 'web');
    assert.deepEqual(Object.keys(parsed.config), ['__proto__']);
    assert.equal(Object.getPrototypeOf(parsed.config), Object.prototype);
  });
});
