import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConfigChanges, parseConfigArguments } from './config-args.js';
import { UsageError } from './errors.js';

describe('parseConfigArguments', () => {
  it('reads key=value pairs, splitting at the first "="', () => {
    assert.deepEqual(parseConfigArguments(['limits.cpu=2', 'user.note=a=b', 'user.empty=']), {
      'limits.cpu': '2',
      'user.note': 'a=b',
      'user.empty': '',
    });
  });

  it('reads "<key> <value>" when two arguments are given and the first holds no "="', () => {
    assert.deepEqual(parseConfigArguments(['user.motd', 'hello = world']), {
      'user.motd': 'hello = world',
    });
  });

  it('reads two key=value pairs as pairs', () => {
    assert.deepEqual(parseConfigArguments(['a.b=1', 'c.d=2']), { 'a.b': '1', 'c.d': '2' });
  });

  it('refuses an argument without "=" among several', () => {
    assert.throws(
      () => parseConfigArguments(['a=1', 'b', 'c=3']),
      new UsageError('invalid argument "b": expected <key>=<value>'),
    );
  });

  it('refuses a lone key without a value', () => {
    assert.throws(() => parseConfigArguments(['limits.cpu']), UsageError);
  });

  it('refuses an empty key', () => {
    assert.throws(
      () => parseConfigArguments(['=2']),
      new UsageError('invalid argument "=2": the key is empty'),
    );
  });
});

describe('applyConfigChanges', () => {
  it('sets keys, removes keys given an empty value, and leaves the input untouched', () => {
    const config = { 'limits.cpu': '1', 'user.a': 'x' };
    assert.deepEqual(applyConfigChanges(config, { 'limits.cpu': '2', 'user.a': '', 'user.b': 'y' }), {
      'limits.cpu': '2',
      'user.b': 'y',
    });
    assert.deepEqual(config, { 'limits.cpu': '1', 'user.a': 'x' });
  });
});
