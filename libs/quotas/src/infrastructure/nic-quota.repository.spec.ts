import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { nicQuotaRows } from './nic-quota.repository.js';

describe('nic quota rows', () => {
  it('keeps one row per nic with a limit, in bit/s, limits.max beside the other two', () => {
    const rows = nicQuotaRows({
      root: { type: 'disk', path: '/', 'limits.read': '10MB' },
      eth1: { type: 'nic', network: 'br0', 'limits.max': '1Gbit', 'limits.ingress': '2Mibit' },
      eth0: { type: 'nic', network: 'br0', 'limits.egress': '20Mbit' },
      eth2: { type: 'nic', network: 'br0' },
      eth3: { type: 'nic', network: 'br0', 'limits.ingress': '' },
    });
    assert.deepEqual(rows, [
      { device: 'eth0', ingress: null, egress: 20_000_000, max: null },
      { device: 'eth1', ingress: 2 ** 21, egress: null, max: 1_000_000_000 },
    ]);
  });

  it('refuses a limit that is not a bit rate, naming the device and key', () => {
    assert.throws(
      () => nicQuotaRows({ eth0: { type: 'nic', network: 'br0', 'limits.egress': 'fast' } }),
      (err: unknown) => err instanceof ValidationError && err.message === 'Invalid devices["eth0"]["limits.egress"]: "fast" is not a bit rate like 10Mbit',
    );
  });
});
