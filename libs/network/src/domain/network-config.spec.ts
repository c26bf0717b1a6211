import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { formatDhcpRange } from './dhcp-range.js';
import { formatInterfaceAddress } from './ipv4.js';
import { networkSpecOf, validateNetworkConfig } from './network-config.js';

const refuses = (config: unknown, message: string) =>
  assert.throws(() => validateNetworkConfig(config), (e: unknown) => e instanceof ValidationError && e.message === message);

describe('network config keys', () => {
  it('accepts LXD\'s keys and user.* keys', () => {
    const config = {
      'ipv4.address': '10.20.30.1/24',
      'ipv4.nat': 'true',
      'ipv4.dhcp': 'false',
      'ipv4.dhcp.ranges': '10.20.30.100-10.20.30.200',
      'dns.domain': 'lab.example',
      'bridge.mtu': '9000',
      'user.note': 'anything',
    };
    assert.deepEqual({ ...validateNetworkConfig(config) }, config);
    assert.deepEqual({ ...validateNetworkConfig({ 'ipv4.address': 'auto' }) }, { 'ipv4.address': 'auto' });
  });
  it('leaves out a key given as "" (unset, as in LXD)', () => {
    assert.deepEqual({ ...validateNetworkConfig({ 'ipv4.address': '10.0.0.1/24', 'ipv4.dhcp': '', 'user.note': '' }) }, { 'ipv4.address': '10.0.0.1/24' });
  });
  it('refuses unknown keys and bad values, naming the key', () => {
    refuses({ 'ipv4.gateway': 'x' }, 'Invalid config["ipv4.gateway"]: unknown network configuration key');
    refuses({ 'ipv4.address': '10.0.0.1/33' }, 'Invalid config["ipv4.address"]: prefix length /33 is greater than /32');
    refuses({ 'ipv4.address': '10.0.0.0/24' }, 'Invalid config["ipv4.address"]: 10.0.0.0 is the network address of 10.0.0.0/24');
    refuses({ 'ipv4.nat': 'maybe' }, 'Invalid config["ipv4.nat"]: must be a boolean');
    refuses({ 'bogus.key': '' }, 'Invalid config["bogus.key"]: unknown network configuration key');
    refuses({ 'bridge.mtu': '67' }, 'Invalid config["bridge.mtu"]: must be an integer from 68 to 65535');
    refuses({ 'bridge.mtu': '1500.5' }, 'Invalid config["bridge.mtu"]: must be an integer from 68 to 65535');
    refuses({ 'dns.domain': 'bad_domain' }, 'Invalid config["dns.domain"]: "bad_domain" is not a DNS domain name');
    refuses({ 'dns.domain': 'a..b' }, 'Invalid config["dns.domain"]: "a..b" is not a DNS domain name');
    refuses({ 'ipv4.address': '10.0.0.1/24', 'ipv4.dhcp.ranges': '10.0.1.10-10.0.1.20' }, 'Invalid config["ipv4.dhcp.ranges"]: 10.0.1.10 is outside 10.0.0.0/24');
    refuses({ 'bridge.mtu': 1500 }, 'Invalid config["bridge.mtu"]: must be a string');
    refuses({ 'dns.domain': 'a\nb' }, 'Invalid config["dns.domain"]: must not contain control characters');
    refuses([], 'Invalid config: must be an object of string values');
  });
  it('does not let __proto__ through as a key', () => {
    const out = validateNetworkConfig(JSON.parse('{"user.x":"1"}'));
    assert.equal(Object.getPrototypeOf(out), null);
  });
});

describe('network spec', () => {
  it('fills LXD\'s defaults', () => {
    const spec = networkSpecOf('berthbr0', { 'ipv4.address': '10.9.8.1/24' });
    assert.equal(formatInterfaceAddress(spec.gateway), '10.9.8.1/24');
    assert.deepEqual(spec.dhcpRanges.map(formatDhcpRange), ['10.9.8.2-10.9.8.254']);
    assert.equal(spec.dhcp, true);
    assert.equal(spec.nat, false);
    assert.equal(spec.domain, 'berth');
    assert.equal(spec.mtu, 1500);
  });
  it('needs a concrete address, and a valid name', () => {
    assert.throws(() => networkSpecOf('br0', { 'ipv4.address': 'auto' }), { message: 'Invalid config["ipv4.address"]: must be resolved to an address before the network is created' });
    assert.throws(() => networkSpecOf('br/0', { 'ipv4.address': '10.0.0.1/24' }), { message: 'Invalid name: must not contain "/"' });
  });
});
