import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import type { Operation } from '../api.js';
import { renderList } from '../format.js';
import { flattenOperations, OPERATION_COLUMNS, parseSeconds } from './operation.js';

const operation = (id: string, created_at: string, status: string, status_code: number): Operation => ({
  id,
  class: 'task',
  description: `op ${id}`,
  created_at,
  updated_at: created_at,
  status,
  status_code,
  resources: null,
  metadata: null,
  may_cancel: status === 'Running',
  err: status === 'Failure' ? 'boom' : '',
  location: 'none',
});

describe('flattenOperations', () => {
  it('merges the status groups, oldest first', () => {
    const running = operation('c', '2025-01-01T00:00:03Z', 'Running', 103);
    const success = operation('a', '2025-01-01T00:00:01Z', 'Success', 200);
    const failure = operation('b', '2025-01-01T00:00:02Z', 'Failure', 400);
    assert.deepEqual(
      flattenOperations({ running: [running], success: [success], failure: [failure] }).map((op) => op.id),
      ['a', 'b', 'c'],
    );
  });

  it('reads an empty or null answer as no operations', () => {
    assert.deepEqual(flattenOperations({}), []);
    assert.deepEqual(flattenOperations(null), []);
  });

  it('lists the columns lxc shows', () => {
    const csv = renderList([operation('a', '2025-01-01T00:00:01Z', 'Running', 103)], OPERATION_COLUMNS, 'csv');
    assert.equal(csv, 'a,task,op a,Running,YES,2025-01-01T00:00:01Z');
  });
});

describe('parseSeconds', () => {
  it('accepts whole seconds', () => {
    assert.equal(parseSeconds('0'), 0);
    assert.equal(parseSeconds('30'), 30);
  });

  it('refuses anything else', () => {
    for (const value of ['-1', '1.5', 'ten', '']) {
      assert.throws(() => parseSeconds(value), InvalidArgumentError, value);
    }
  });
});
