import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLeases } from './leases.js';

describe('dnsmasq lease file', () => {
  it('reads IPv4 leases, stars as null, 0 as infinite, and stops at the IPv6 part', () => {
    const text = [
      '1700000000 00:16:3e:aa:bb:cc 10.0.0.23 web 01:00:16:3e:aa:bb:cc',
      '0 00:16:3E:00:00:01 10.0.0.5 * *',
      'garbage line',
      '1700000000 00:16:3e:aa:bb:cd 10.0.0.300 bad *',
      'duid 00:01:00:01',
      '1700000000 1234 fd00::5 web6 00:01',
      '',
    ].join('\n');
    assert.deepEqual(parseLeases(text), [
      { expiresAt: new Date(1700000000 * 1000), mac: '00:16:3e:aa:bb:cc', ipv4: '10.0.0.23', hostname: 'web', clientId: '01:00:16:3e:aa:bb:cc' },
      { expiresAt: null, mac: '00:16:3e:00:00:01', ipv4: '10.0.0.5', hostname: null, clientId: null },
    ]);
  });
  it('reads an empty file as no leases', () => assert.deepEqual(parseLeases(''), []));
});
