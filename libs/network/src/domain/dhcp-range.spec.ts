import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { defaultDhcpRanges, formatDhcpRange, parseDhcpRanges } from './dhcp-range.js';
import { parseInterfaceAddress } from './ipv4.js';

const F = 'config["ipv4.dhcp.ranges"]';
const gw = parseInterfaceAddress('gw', '10.0.0.1/24');
const parse = (text: string) => parseDhcpRanges(F, text, gw).map(formatDhcpRange);
const refuses = (text: string, reason: string) =>
  assert.throws(() => parseDhcpRanges(F, text, gw), (e: unknown) => e instanceof ValidationError && e.message === `Invalid ${F}: ${reason}`);

describe('ipv4.dhcp.ranges', () => {
  it('reads one or several ranges inside the subnet', () => {
    assert.deepEqual(parse('10.0.0.100-10.0.0.200'), ['10.0.0.100-10.0.0.200']);
    assert.deepEqual(parse('10.0.0.10-10.0.0.20, 10.0.0.50-10.0.0.50'), ['10.0.0.10-10.0.0.20', '10.0.0.50-10.0.0.50']);
  });
  it('refuses ranges outside the subnet, reversed, overlapping or malformed', () => {
    refuses('10.0.1.100-10.0.1.200', '10.0.1.100 is outside 10.0.0.0/24');
    refuses('10.0.0.100-10.0.1.5', '10.0.1.5 is outside 10.0.0.0/24');
    refuses('10.0.0.200-10.0.0.100', 'range 10.0.0.200-10.0.0.100 ends before it starts');
    refuses('10.0.0.0-10.0.0.10', 'range 10.0.0.0-10.0.0.10 includes the network or broadcast address of 10.0.0.0/24');
    refuses('10.0.0.10-10.0.0.255', 'range 10.0.0.10-10.0.0.255 includes the network or broadcast address of 10.0.0.0/24');
    refuses('10.0.0.10-10.0.0.20,10.0.0.20-10.0.0.30', 'ranges 10.0.0.10-10.0.0.20 and 10.0.0.20-10.0.0.30 overlap');
    refuses('10.0.0.100', '"10.0.0.100" is not a range like 10.0.0.100-10.0.0.200');
    refuses('10.0.0.100-10.0.0.300', 'octet 300 is greater than 255');
  });
  it('defaults to every host address but the gateway', () => {
    assert.deepEqual(defaultDhcpRanges(gw).map(formatDhcpRange), ['10.0.0.2-10.0.0.254']);
    assert.deepEqual(defaultDhcpRanges(parseInterfaceAddress('gw', '10.0.0.100/24')).map(formatDhcpRange), ['10.0.0.1-10.0.0.99', '10.0.0.101-10.0.0.254']);
    assert.deepEqual(defaultDhcpRanges(parseInterfaceAddress('gw', '10.0.0.254/24')).map(formatDhcpRange), ['10.0.0.1-10.0.0.253']);
  });
});
