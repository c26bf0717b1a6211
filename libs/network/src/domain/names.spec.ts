import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { hostVethName, MAX_INTERFACE_NAME, validateNetworkName } from './names.js';

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
  const web = '0b7c3f5e-2f44-4c1b-9a53-6f6c1d2e8a10';
  const otherWeb = 'c4a1e9d2-7b3f-4e86-8d0a-51f2b6c7e394';

  it('are at most 15 characters (IFNAMSIZ), bth + 12 hex digits', () => {
    for (const [uuid, device] of [[web, 'eth0'], [otherWeb, 'a-very-long-device-name-indeed'], [web, '']]) {
      const name = hostVethName(uuid!, device!);
      assert.match(name, /^bth[0-9a-f]{12}$/);
      assert.ok(name.length <= MAX_INTERFACE_NAME);
    }
  });

  it('are the same for the same uuid and device (a restarted daemon finds them)', () => {
    assert.equal(hostVethName(web, 'eth0'), hostVethName(web, 'eth0'));
    assert.equal(hostVethName(web, 'eth0'), 'bth' + createHash('sha256').update(`${web}\u0000eth0`).digest('hex').slice(0, 12));
  });

  it('differ between instances (uuids), even of the same name in two daemons, and between devices', () => {
    assert.notEqual(hostVethName(web, 'eth0'), hostVethName(otherWeb, 'eth0'));
    assert.notEqual(hostVethName(web, 'eth0'), hostVethName(web, 'eth1'));
    const names = new Set(Array.from({ length: 2000 }, () => hostVethName(randomUUID(), 'eth0')));
    assert.equal(names.size, 2000);
    // The separator keeps ("ab","c") and ("a","bc") apart.
    assert.notEqual(hostVethName('ab', 'c'), hostVethName('a', 'bc'));
  });

  it('refuse an instance without a uuid', () => {
    assert.throws(() => hostVethName('', 'eth0'), /no volatile\.uuid/);
  });
});
