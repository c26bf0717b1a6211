import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertStorageName } from './storage-names.js';

describe('assertStorageName', () => {
  it('accepts instance names and image fingerprints', () => {
    assert.equal(assertStorageName('instance', 'web-1'), 'web-1');
    assert.equal(assertStorageName('image', 'a'.repeat(64)), 'a'.repeat(64));
  });

  for (const bad of ['', '..', '../etc', 'a/b', '.hidden', 'x.filling', '-x', 'a b', 'é', 'x'.repeat(129)]) {
    it(`refuses ${JSON.stringify(bad)}, which could escape or shadow a path`, () => {
      assert.throws(() => assertStorageName('instance', bad), { code: 'STORAGE.INVALID_NAME' });
    });
  }
});
