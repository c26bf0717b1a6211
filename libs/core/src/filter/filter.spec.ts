import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors/domain-error.js';
import { parseFilter, valueOf } from './filter.js';

const c1 = { name: 'web1', status: 'Running', status_code: 103, ephemeral: false, config: { 'user.team': 'ops', 'limits.cpu': '2' } };
const c2 = { name: 'db1', status: 'Stopped', status_code: 102, ephemeral: true, config: { 'user.team': 'data' } };
const pick = (f: string) => [c1, c2].filter((o) => parseFilter(f)!.matches(o)).map((o) => o.name);

describe('parseFilter (LXD filter language)', () => {
  it('matches strings case-insensitively, as anchored regular expressions', () => {
    assert.deepEqual(pick('status eq running'), ['web1']);
    assert.deepEqual(pick('name eq web.*'), ['web1']);
    assert.deepEqual(pick('name eq eb'), []);
    assert.deepEqual(pick('name eq ^d'), ['db1']);
  });
  it('reads config keys that contain dots', () => {
    assert.equal(valueOf(c1, 'config.user.team'), 'ops');
    assert.deepEqual(pick('config.user.team eq ops'), ['web1']);
    assert.deepEqual(pick('config.limits.cpu eq 2'), ['web1']);
  });
  it('compares numbers and booleans, joins with and/or left to right, negates with not', () => {
    assert.deepEqual(pick('status_code gt 102'), ['web1']);
    assert.deepEqual(pick('ephemeral eq true'), ['db1']);
    assert.deepEqual(pick('status eq running or name eq db1'), ['web1', 'db1']);
    assert.deepEqual(pick('status eq running and name eq db1'), []);
    assert.deepEqual(pick('not status eq running'), ['db1']);
    assert.deepEqual(pick('name eq "web1"'), ['web1']);
  });
  it('refuses what it cannot read, naming the filter', () => {
    for (const bad of ['name', 'name eq', 'name like x', 'name eq x xor y eq z', 'name eq x and']) {
      assert.throws(() => parseFilter(bad), (e: unknown) => e instanceof ValidationError && e.field === 'filter');
    }
  });
});
