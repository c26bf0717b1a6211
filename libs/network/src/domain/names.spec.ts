import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { hostVethName, validateNetworkName } from './names.js';

describe('network names', () => {
  for (const good of ['berthbr0', 'br-test_1', 'a', 'x'.repeat(15), 'lxd.br0']) {
    it(`accepts ${good}`, () => assert.equal(validateNetworkName('name', good), good));
  }
  const bad: Array<[unknown, string]> = [
    ['', 'must not be empty'],
    ['x'.repeat(16), 'must be at most 15 characters (an interface name)'],
    ['br/0', 'must not contain "/"'],
    ['br:0', 'must not contain ":"'],
    ['br 0', 'must not contain whitespace'],
    ['br\t0', 'must not contain whitespace'],
    ['.', 'may only contain letters, digits, "_", "." and "-", starting with a letter or digit'],
    ['..', 'may only contain letters, digits, "_", "." and "-", starting with a letter or digit'],
    ['-br', 'may only contain letters, digits, "_", "." and "-", starting with a letter or digit'],
    ['brü', 'may only contain letters, digits, "_", "." and "-", starting with a letter or digit'],
    ['br;rm', 'may only contain letters, digits, "_", "." and "-", starting with a letter or digit'],
    ['123', 'must not be only digits'],
    [42, 'must be a string'],
  ];
  for (const [value, reason] of bad) {
    it(`refuses ${JSON.stringify(value)}`, () =>
      assert.throws(() => validateNetworkName('name', value), (e: unknown) => e instanceof ValidationError && e.message === `Invalid name: ${reason}`));
  }
});

describe('host veth names', () => {
  it('are 15 characters, stable, and differ per instance and device', () => {
    const a = hostVethName('web', 'eth0');
    assert.match(a, /^bth[0-9a-f]{12}$/);
    assert.equal(a, hostVethName('web', 'eth0'));
    assert.notEqual(a, hostVethName('web', 'eth1'));
    assert.notEqual(a, hostVethName('web2', 'eth0'));
    // The separator keeps ("ab","c") and ("a","bc") apart.
    assert.notEqual(hostVethName('ab', 'c'), hostVethName('a', 'bc'));
  });
});
