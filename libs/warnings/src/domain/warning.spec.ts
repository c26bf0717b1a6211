import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForbiddenError, ValidationError } from '#core';
import { requestedStatus, statusFilter } from './warning.js';

describe('warning status', () => {
  it('a client sets acknowledged or new', () => {
    assert.equal(requestedStatus('acknowledged'), 'acknowledged');
    assert.equal(requestedStatus('new'), 'new');
  });
  it('resolved is the daemon\'s to set (403, as in LXD); anything else is a 400 naming status', () => {
    assert.throws(() => requestedStatus('resolved'), (e: unknown) => e instanceof ForbiddenError && e.message === 'Status may only be set to "acknowledged" or "new"');
    for (const bad of ['ack', '', 3, undefined]) {
      assert.throws(() => requestedStatus(bad), (e: unknown) => e instanceof ValidationError && e.field === 'status' && /is not a warning status \(new, acknowledged or resolved\)$/.test(e.message));
    }
  });
  it('reads the filter "status eq <status>" and refuses other filters naming filter', () => {
    assert.equal(statusFilter(undefined), undefined);
    assert.equal(statusFilter(''), undefined);
    assert.equal(statusFilter('status eq acknowledged'), 'acknowledged');
    for (const bad of ['status eq gone', 'type eq x', 'status ne new']) {
      assert.throws(() => statusFilter(bad), (e: unknown) => e instanceof ValidationError && e.field === 'filter');
    }
  });
});
