import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors/domain-error.js';
import { mergeConfig, validateConfig, validateDescription, validateDevices } from './config-keys.js';

const refuses = (fn: () => unknown, message: string | RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ValidationError && (typeof message === 'string' ? e.message === message : message.test(e.message)));

describe('validateConfig', () => {
  it('accepts known keys and free-form namespaces', () => {
    const config = { 'limits.cpu': '0-1', 'limits.cpu.allowance': '25ms/100ms', 'limits.memory': '512MiB', 'user.anything': 'x y', 'environment.HTTP_PROXY': 'http://10.0.0.1:3128', 'security.nesting': 'true', 'limits.kernel.nofile': '1024' };
    assert.deepEqual(validateConfig(config), config);
  });
  it('returns a plain copy without prototype tricks', () => {
    const out = validateConfig(JSON.parse('{"user.a":"1"}'));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });
  it('refuses unknown keys, naming them', () => refuses(() => validateConfig({ 'limits.cpus': '1' }), 'Invalid config["limits.cpus"]: unknown configuration key'));
  it('refuses a bare free-form prefix', () => refuses(() => validateConfig({ 'user.': '1' }), 'Invalid config["user."]: unknown configuration key'));
  it('refuses volatile keys', () => refuses(() => validateConfig({ 'volatile.x': '1' }), 'Invalid config["volatile.x"]: volatile keys are owned by the server'));
  it('refuses NUL and newlines in values', () => {
    refuses(() => validateConfig({ 'user.a': 'x\u0000' }), 'Invalid config["user.a"]: must not contain NUL characters');
    refuses(() => validateConfig({ 'environment.A': 'x\r' }), 'Invalid config["environment.A"]: must not contain newlines');
  });
  it('takes several lines in user.* and cloud-init.* values (documents for the guest)', () => {
    const config = { 'user.meta-data': 'a: 1\nb: 2\n', 'cloud-init.user-data': '#cloud-config\nruncmd:\n  - [touch, /x]\n' };
    assert.deepEqual(validateConfig(config), config);
  });
  it('checks cloud-init documents as LXD does: #cloud-config and network-config must be YAML, other user-data formats pass', () => {
    refuses(() => validateConfig({ 'cloud-init.user-data': '#cloud-config\nruncmd: [a\n' }), /^Invalid config\["cloud-init.user-data"\]: must be valid YAML/);
    refuses(() => validateConfig({ 'cloud-init.vendor-data': '#cloud-config\n a: b\nc' }), /^Invalid config\["cloud-init.vendor-data"\]: must be valid YAML/);
    refuses(() => validateConfig({ 'cloud-init.network-config': 'version: [2' }), /^Invalid config\["cloud-init.network-config"\]: must be valid YAML/);
    assert.deepEqual(validateConfig({ 'cloud-init.user-data': '#!/bin/sh\necho [\n' }), { 'cloud-init.user-data': '#!/bin/sh\necho [\n' });
  });
  it('takes security.devlxd.images=false only', () => {
    assert.deepEqual(validateConfig({ 'security.devlxd.images': 'false' }), { 'security.devlxd.images': 'false' });
    refuses(() => validateConfig({ 'security.devlxd.images': 'true' }), 'Invalid config["security.devlxd.images"]: cannot be true: Berth does not serve images to guests');
    refuses(() => validateConfig({ 'security.devlxd.images': 'maybe' }), 'Invalid config["security.devlxd.images"]: must be a boolean');
  });
  it('checks value shapes', () => {
    refuses(() => validateConfig({ 'limits.memory.swap.priority': '11' }), 'Invalid config["limits.memory.swap.priority"]: must be an integer from 0 to 10');
    refuses(() => validateConfig({ 'security.nesting': 'perhaps' }), 'Invalid config["security.nesting"]: must be a boolean');
  });
  it('reads an empty value as unset, as LXD does, for a boolean as for any key', () => {
    assert.deepEqual(validateConfig({ 'security.privileged': '', 'boot.autostart': '', 'limits.memory': '', 'user.a': '', 'user.b': 'x' }), { 'user.b': 'x' });
    refuses(() => validateConfig({ 'volatile.x': '' }), 'Invalid config["volatile.x"]: volatile keys are owned by the server');
  });
  it('mergeConfig: given keys replace, a key given as "" is removed, a bad value is still refused', () => {
    const current = { 'security.privileged': 'true', 'user.a': '1', 'user.b': '2' };
    assert.deepEqual(mergeConfig(current, { 'security.privileged': '', 'user.a': '3' }), { 'user.a': '3', 'user.b': '2' });
    assert.deepEqual(current, { 'security.privileged': 'true', 'user.a': '1', 'user.b': '2' });
    refuses(() => mergeConfig(current, { 'security.privileged': 'maybe' }), 'Invalid config["security.privileged"]: must be a boolean');
  });
  it('checks the boot.autostart keys: a boolean, seconds of delay, a signed priority', () => {
    const config = { 'boot.autostart': 'true', 'boot.autostart.delay': '5', 'boot.autostart.priority': '-3' };
    assert.deepEqual(validateConfig(config), config);
    refuses(() => validateConfig({ 'boot.autostart': 'sometimes' }), 'Invalid config["boot.autostart"]: must be a boolean');
    refuses(() => validateConfig({ 'boot.autostart.delay': '-1' }), 'Invalid config["boot.autostart.delay"]: must be a non-negative integer');
    refuses(() => validateConfig({ 'boot.autostart.priority': 'high' }), 'Invalid config["boot.autostart.priority"]: must be an integer');
  });
});

describe('validateDevices', () => {
  it('accepts typed devices', () => {
    const devices = { root: { type: 'disk', path: '/', pool: 'default' }, eth0: { type: 'nic', network: 'berthbr0', name: 'eth0' } };
    assert.deepEqual(validateDevices(devices), devices);
  });
  it('refuses unknown types and keys', () => {
    refuses(() => validateDevices({ x: { type: 'warp' } }), 'Invalid devices["x"].type: must be one of none, disk, nic, proxy, unix-char, unix-block');
    refuses(() => validateDevices({ x: { type: 'nic', speed: '10' } }), 'Invalid devices["x"]["speed"]: unknown key for a nic device');
    refuses(() => validateDevices({ 'bad name': { type: 'none' } }), 'Invalid devices["bad name"]: is not a valid device name');
  });
});

describe('validateDescription', () => {
  it('allows multi-line text but not NUL', () => {
    assert.equal(validateDescription('a\nb'), 'a\nb');
    refuses(() => validateDescription('a\u0000'), 'Invalid description: must not contain NUL characters');
  });
});
