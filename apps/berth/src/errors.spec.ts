import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorLine } from './errors.js';

describe('errorLine', () => {
  it('prefixes the message with "Error:"', () => {
    assert.equal(errorLine(new Error('Profile not found')), 'Error: Profile not found');
  });

  it('folds a message of several lines into one', () => {
    assert.equal(errorLine(new Error('first\n  second\r\nthird\n')), 'Error: first second third');
  });

  it('accepts values that are not errors', () => {
    assert.equal(errorLine('boom'), 'Error: boom');
  });
});
