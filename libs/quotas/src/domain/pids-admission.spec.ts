import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionRefusedError } from './admission.js';
import { checkPidsAdmission, pidsAllowed } from './pids-admission.js';

const budget = { pidMax: 32768, share: 0.5 };
const refusedWith = (message: string) => (e: unknown) => e instanceof AdmissionRefusedError && e.message === message;

describe('pids admission', () => {
  it('allows share × pid_max, rounded down', () => {
    assert.equal(pidsAllowed(budget), 16384);
    assert.equal(pidsAllowed({ pidMax: 4194304, share: 0.333 }), 1396703);
  });

  it('admits up to the allowance exactly', () => {
    checkPidsAdmission('web', 2000, [], budget);
    checkPidsAdmission('web', 4384, [2000, 2000, 4000, 4000], budget);
  });

  it('refuses one pid past it, naming limits.processes and the numbers', () => {
    assert.throws(
      () => checkPidsAdmission('web', 4385, [2000, 2000, 4000, 4000], budget),
      refusedWith('Not enough process ids to start "web": limits.processes 12000 committed (4 running) + 4385 requested = 16385, over the 16384 allowed (limits.processes.share=0.5 × pid_max 32768)'),
    );
  });

  it('counts an instance without limits.processes as the whole allowance', () => {
    checkPidsAdmission('alone', undefined, [], budget);
    assert.throws(
      () => checkPidsAdmission('web', undefined, [100], budget),
      refusedWith('Not enough process ids to start "web": limits.processes 100 committed (1 running) + 16384 requested (no limits.processes: counted as the whole allowance) = 16484, over the 16384 allowed (limits.processes.share=0.5 × pid_max 32768)'),
    );
    assert.throws(
      () => checkPidsAdmission('web', 1, [undefined], budget),
      refusedWith('Not enough process ids to start "web": limits.processes 16384 committed (1 running, 1 of them without limits.processes counted as 16384 each) + 1 requested = 16385, over the 16384 allowed (limits.processes.share=0.5 × pid_max 32768)'),
    );
  });
});
