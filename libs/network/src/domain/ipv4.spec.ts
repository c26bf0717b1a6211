import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { broadcastOf, formatInterfaceAddress, formatIpv4, formatSubnet, parseInterfaceAddress, parseIpv4, parseSubnet, subnetsOverlap } from './ipv4.js';

const refuses = (fn: () => unknown, message: string) =>
  assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.message === message && e.field === 'config["ipv4.address"]');
const F = 'config["ipv4.address"]';

describe('IPv4 addresses', () => {
  it('round-trips through the integer form', () => {
    for (const text of ['0.0.0.0', '10.0.0.1', '192.168.255.254', '255.255.255.255']) assert.equal(formatIpv4(parseIpv4('a', text)), text);
  });
  it('refuses bad octets and shapes', () => {
    refuses(() => parseIpv4(F, '10.0.0.256'), `Invalid ${F}: octet 256 is greater than 255`);
    refuses(() => parseIpv4(F, '10.0.0'), `Invalid ${F}: must be four dot-separated numbers`);
    refuses(() => parseIpv4(F, '10.0.0.01'), `Invalid ${F}: "01" is not a decimal octet`);
    refuses(() => parseIpv4(F, '10.0.0.-1'), `Invalid ${F}: "-1" is not a decimal octet`);
    refuses(() => parseIpv4(F, '10.0.0.1 '), `Invalid ${F}: "1 " is not a decimal octet`);
  });
});

describe('gateway addresses (ipv4.address)', () => {
  it('reads address and subnet', () => {
    const gw = parseInterfaceAddress(F, '10.0.0.1/24');
    assert.equal(formatInterfaceAddress(gw), '10.0.0.1/24');
    assert.equal(formatSubnet(gw.subnet), '10.0.0.0/24');
    assert.equal(formatIpv4(broadcastOf(gw.subnet)), '10.0.0.255');
  });
  it('refuses /33, a missing prefix, the network and broadcast addresses, and /31-/32', () => {
    refuses(() => parseInterfaceAddress(F, '10.0.0.1/33'), `Invalid ${F}: prefix length /33 is greater than /32`);
    refuses(() => parseInterfaceAddress(F, '10.0.0.1'), `Invalid ${F}: a prefix length is required (e.g. /24)`);
    refuses(() => parseInterfaceAddress(F, '10.0.0.1/x'), `Invalid ${F}: "/x" is not a prefix length`);
    refuses(() => parseInterfaceAddress(F, '10.0.0.0/24'), `Invalid ${F}: 10.0.0.0 is the network address of 10.0.0.0/24`);
    refuses(() => parseInterfaceAddress(F, '10.0.0.255/24'), `Invalid ${F}: 10.0.0.255 is the broadcast address of 10.0.0.0/24`);
    refuses(() => parseInterfaceAddress(F, '10.0.0.1/32'), `Invalid ${F}: a /32 leaves no room for other hosts (use at most /30)`);
    refuses(() => parseInterfaceAddress(F, '300.0.0.1/24'), `Invalid ${F}: octet 300 is greater than 255`);
    refuses(() => parseInterfaceAddress(F, '10.0.0.1/24/8'), `Invalid ${F}: must be an address and one prefix length, e.g. 10.0.0.0/24`);
  });
});

describe('networks (CIDR with host bits clear)', () => {
  it('reads networks of any prefix', () => {
    assert.deepEqual(parseSubnet(F, '10.0.0.0/24'), { network: parseIpv4('a', '10.0.0.0'), prefix: 24 });
    assert.deepEqual(parseSubnet(F, '0.0.0.0/0'), { network: 0, prefix: 0 });
    assert.equal(formatSubnet(parseSubnet(F, '172.16.0.0/12')), '172.16.0.0/12');
  });
  it('refuses host bits set, naming the network meant', () => {
    refuses(() => parseSubnet(F, '10.0.0.1/24'), `Invalid ${F}: host bits are set (the network is 10.0.0.0/24)`);
    refuses(() => parseSubnet(F, '10.0.0.0/33'), `Invalid ${F}: prefix length /33 is greater than /32`);
  });
  it('detects overlap in either direction', () => {
    const s = (t: string) => parseSubnet('s', t);
    assert.equal(subnetsOverlap(s('10.0.0.0/8'), s('10.1.2.0/24')), true);
    assert.equal(subnetsOverlap(s('10.1.2.0/24'), s('10.0.0.0/8')), true);
    assert.equal(subnetsOverlap(s('10.1.2.0/24'), s('10.1.3.0/24')), false);
    assert.equal(subnetsOverlap(s('10.1.2.128/25'), s('10.1.2.0/24')), true);
    assert.equal(subnetsOverlap(s('192.0.2.2/32'), s('192.0.2.0/24')), true);
  });
});
