import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { collectKeyValue } from './options.js';

describe('collectKeyValue', () => {
  it('collects repeated key=value options, splitting at the first "="', () => {
    const once = collectKeyValue('os=debian', {});
    assert.deepEqual(collectKeyValue('note=a=b', once), { os: 'debian', note: 'a=b' });
    assert.deepEqual(collectKeyValue('empty=', {}), { empty: '' });
  });

  it('refuses an option without a key or without "="', () => {
    for (const value of ['=x', 'novalue', '']) assert.throws(() => collectKeyValue(value, {}), InvalidArgumentError, value);
  });
});
