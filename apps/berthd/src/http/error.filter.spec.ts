import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request } from 'express';
import { createLogger, DatabaseUnavailableError, ValidationError } from '#core';
import { ProfileInUseError } from '#profiles';
import { toErrorResponse } from './error.filter.js';

const req = { id: 'req-1' } as Request;
const log = createLogger('silent');

describe('toErrorResponse', () => {
  it('maps a profile in use to 400 with the users listed', () => {
    const { status, body } = toErrorResponse(new ProfileInUseError('web', ['/1.0/instances/a']), req, log);
    assert.equal(status, 400);
    assert.deepEqual(body, { type: 'error', status: '', status_code: 0, operation: '', error_code: 400, error: 'Profile "web" is currently in use by: /1.0/instances/a', metadata: { used_by: ['/1.0/instances/a'] } });
  });

  it('maps validation errors to 400 naming the field', () => {
    const { status, body } = toErrorResponse(new ValidationError('config["x"]', 'unknown configuration key'), req, log);
    assert.equal(status, 400);
    assert.equal(body.error, 'Invalid config["x"]: unknown configuration key');
  });

  it('maps a lost database connection to 503', () => {
    const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    assert.equal(toErrorResponse(lost, req, log).status, 503);
    assert.equal(toErrorResponse(new DatabaseUnavailableError('down'), req, log).status, 503);
    assert.equal(toErrorResponse({ driverError: { code: '57P01' } }, req, log).status, 503);
  });

  it('hides unexpected errors behind a 500 with the request id', () => {
    const { status, body } = toErrorResponse(new TypeError('x is undefined'), req, log);
    assert.equal(status, 500);
    assert.equal(body.error, 'Internal error (request req-1)');
  });
});
