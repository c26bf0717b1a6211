import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { overcommitRatio, processesShare, validateServerConfig } from './server-config.js';

describe('server config', () => {
  it('applies the admission defaults when the keys are unset, and the values when set', () => {
    assert.equal(overcommitRatio({}), 1);
    assert.equal(overcommitRatio({ 'limits.memory.overcommit': '1.5' }), 1.5);
    assert.equal(processesShare({}), 0.5);
    assert.equal(processesShare({ 'limits.processes.share': '0.25' }), 0.25);
  });

  it('keeps only the keys set: an empty value unsets one, and the default applies again', () => {
    assert.deepEqual(validateServerConfig({ 'limits.processes.share': '0.8', 'limits.memory.overcommit': '' }), { 'limits.processes.share': '0.8' });
  });

  it('takes a share of pid_max from 0.001 to 1', () => {
    for (const v of ['0.001', '0.5', '1', '1.0']) assert.deepEqual(validateServerConfig({ 'limits.processes.share': v }), { 'limits.processes.share': v });
    for (const v of ['0', '0.000', '1.5', '2', '-0.5', '.5', '50%', '0.0001'])
      assert.throws(
        () => validateServerConfig({ 'limits.processes.share': v }),
        (e: unknown) => e instanceof ValidationError && /must be a share of the kernel pid_max from 0\.001 to 1\.0/.test(e.message),
        v,
      );
  });
});
