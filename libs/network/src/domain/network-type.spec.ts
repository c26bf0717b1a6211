import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { validateNetworkType } from './network-type.js';

describe('validateNetworkType', () => {
  it('takes bridge, and an unset or empty type as a bridge', () => {
    for (const type of [undefined, null, '', 'bridge']) assert.equal(validateNetworkType(type), 'bridge');
  });
  it("refuses LXD's other types and unknown ones, naming type", () => {
    const refuses = (type: unknown, message: string) =>
      assert.throws(() => validateNetworkType(type), (e: unknown) => e instanceof ValidationError && e.field === 'type' && e.message === message);
    refuses('macvlan', 'Invalid type: network type "macvlan" is not supported: Berth manages bridge networks only');
    refuses('ovn', 'Invalid type: network type "ovn" is not supported: Berth manages bridge networks only');
    refuses('wifi', `Invalid type: unknown network type "wifi" (LXD's are bridge, macvlan, sriov, ovn, physical; Berth manages bridge)`);
    refuses(3, 'Invalid type: must be a string');
  });
});
