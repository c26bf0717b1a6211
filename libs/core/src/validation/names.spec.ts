import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors/domain-error.js';
import { validateName } from './names.js';

describe('validateName (LXD naming rules)', () => {
  for (const good of ['a', 'web1', 'Web-1', 'a'.repeat(63), '1a', 'a1-b2']) {
    it(`accepts ${JSON.stringify(good)}`, () => assert.equal(validateName('name', good), good));
  }
  const bad: Array<[unknown, string]> = [
    ['', 'must not be empty'],
    ['a'.repeat(64), 'must be at most 63 characters'],
    ['-a', 'must not start or end with "-"'],
    ['a-', 'must not start or end with "-"'],
    ['123', 'must not be only digits'],
    ['a/b', 'must not contain "/"'],
    ['..', 'may only contain letters, digits and "-"'],
    ['a.b', 'may only contain letters, digits and "-"'],
    ['a b', 'must not contain spaces'],
    ['a\tb', 'must not contain control characters'],
    ['a\u0000', 'must not contain control characters'],
    ['wéb', 'may only contain letters, digits and "-"'],
    [null, 'must be a string'],
  ];
  for (const [value, reason] of bad) {
    it(`refuses ${JSON.stringify(value)}: ${reason}`, () => {
      assert.throws(() => validateName('name', value), (e: unknown) => e instanceof ValidationError && e.message === `Invalid name: ${reason}` && e.field === 'name');
    });
  }
});
