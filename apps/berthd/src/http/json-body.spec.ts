import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRequestError } from '#core';
import { parseJson } from './json-body.js';

describe('parseJson', () => {
  it('parses ordinary JSON', () => assert.deepEqual(parseJson('{"a":{"b":[1,"x"]}}'), { a: { b: [1, 'x'] } }));
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`refuses "${key}" at any depth`, () => {
      assert.throws(() => parseJson(`{"a":{"${key}":{"polluted":true}}}`), (e: unknown) => e instanceof MalformedRequestError && e.message === `Invalid JSON body: the key "${key}" is not allowed`);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }
});
