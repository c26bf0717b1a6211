import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { parseBitRate, parseNicLimits } from './bit-rate.js';

const F = 'device["limits.ingress"]';

describe('bit rates in LXD units', () => {
  const good: Array<[string, number]> = [
    ['10Mbit', 10_000_000],
    ['1Gbit', 1_000_000_000],
    ['100kbit', 100_000],
    ['2Mibit', 2 * 1024 * 1024],
    ['5Kibit', 5 * 1024],
    ['1000', 1000],
    ['64bit', 64],
    ['3Tbit', 3e12],
  ];
  for (const [text, bits] of good) it(`reads ${text}`, () => assert.equal(parseBitRate(F, text), bits));

  const bad: Array<[string, string]> = [
    ['10mbit', 'unknown unit "mbit" (use bit, kbit, Mbit, Gbit, Tbit, Pbit or Kibit, Mibit, Gibit, Tibit, Pibit)'],
    ['10MB', 'unknown unit "MB" (use bit, kbit, Mbit, Gbit, Tbit, Pbit or Kibit, Mibit, Gibit, Tibit, Pibit)'],
    ['1.5Mbit', '"1.5Mbit" is not a bit rate like 10Mbit'],
    ['-1Mbit', '"-1Mbit" is not a bit rate like 10Mbit'],
    ['Mbit', '"Mbit" is not a bit rate like 10Mbit'],
    ['0', 'must be greater than zero (unset the key to remove the limit)'],
    ['99999Pbit', '99999Pbit is too large'],
    // Names of Object.prototype's members are no units either.
    ['10valueOf', 'unknown unit "valueOf" (use bit, kbit, Mbit, Gbit, Tbit, Pbit or Kibit, Mibit, Gibit, Tibit, Pibit)'],
    ['1constructor', 'unknown unit "constructor" (use bit, kbit, Mbit, Gbit, Tbit, Pbit or Kibit, Mibit, Gibit, Tibit, Pibit)'],
  ];
  for (const [text, reason] of bad) {
    it(`refuses ${text}`, () => assert.throws(() => parseBitRate(F, text), (e: unknown) => e instanceof ValidationError && e.message === `Invalid ${F}: ${reason}`));
  }
});

describe('nic limits', () => {
  it('reads each direction, and limits.max for both', () => {
    assert.deepEqual(parseNicLimits({ 'limits.ingress': '10Mbit' }), { ingress: 10e6 });
    assert.deepEqual(parseNicLimits({ 'limits.egress': '1Mbit', 'limits.ingress': '2Mbit' }), { ingress: 2e6, egress: 1e6 });
    assert.deepEqual(parseNicLimits({ 'limits.max': '5Mbit', 'limits.ingress': '2Mbit' }), { ingress: 5e6, egress: 5e6 });
    assert.deepEqual(parseNicLimits({ 'limits.ingress': '' }), {});
  });
  it('names the key at fault', () => {
    assert.throws(() => parseNicLimits({ 'limits.egress': 'fast' }, 'devices["eth0"]'), { message: 'Invalid devices["eth0"]["limits.egress"]: "fast" is not a bit rate like 10Mbit' });
  });
});
