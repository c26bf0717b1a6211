import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { generateMac, parseMac } from './mac.js';

const F = 'device["hwaddr"]';
const refuses = (text: string, reason: string) =>
  assert.throws(() => parseMac(F, text), (e: unknown) => e instanceof ValidationError && e.message === `Invalid ${F}: ${reason}` && e.field === F);

describe('MAC addresses', () => {
  it('normalizes case and separators', () => {
    assert.equal(parseMac(F, '00:16:3E:AB:cd:01'), '00:16:3e:ab:cd:01');
    assert.equal(parseMac(F, '02-00-00-00-00-01'), '02:00:00:00:00:01');
  });
  it('refuses all zeros, multicast and malformed addresses', () => {
    refuses('00:00:00:00:00:00', 'the all-zeros address is not a valid interface address');
    refuses('01:00:5e:00:00:01', '01:00:5e:00:00:01 is a multicast address');
    refuses('ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff is a multicast address');
    refuses('00:16:3e:12:34', '"00:16:3e:12:34" is not a MAC address like 00:16:3e:12:34:56');
    refuses('00:16:3e:12:34:5g', '"00:16:3e:12:34:5g" is not a MAC address like 00:16:3e:12:34:56');
    refuses('0016.3e12.3456', '"0016.3e12.3456" is not a MAC address like 00:16:3e:12:34:56');
  });
  it('generates valid unicast addresses under LXD\'s prefix', () => {
    assert.equal(generateMac(() => Buffer.from([0xab, 0x01, 0xff])), '00:16:3e:ab:01:ff');
    for (let i = 0; i < 50; i++) {
      const mac = generateMac();
      assert.equal(parseMac('m', mac), mac);
      assert.match(mac, /^00:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    }
  });
});
