import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionRefusedError, checkAdmission, committedTotals } from './admission.js';
import type { HostCapacity } from './host.js';

const GiB = 1024n ** 3n;
const host: HostCapacity = { cpus: [0, 1], memoryBytes: 8n * GiB };

describe('admission', () => {
  it('sums what instances were promised', () => {
    const t = committedTotals([{ memoryBytes: GiB, cpu: { kind: 'count', count: 1 }, cpuAllowance: { kind: 'quota', quotaUs: 25000, periodUs: 100000 } }, { cpu: { kind: 'set', cpus: [0, 1] }, processes: 50 }, {}]);
    assert.deepEqual(t, { instances: 3, memory_bytes: GiB, unlimited_memory_instances: 2, cpus: 3, cpu_quota: 0.25, processes: 50 });
  });
  it('admits up to ratio × host memory, and an instance without a memory limit', () => {
    checkAdmission('a', {}, [{ memoryBytes: 8n * GiB }], host, 1);
    checkAdmission('a', { memoryBytes: 4n * GiB }, [{ memoryBytes: 4n * GiB }], host, 1);
    checkAdmission('a', { memoryBytes: 8n * GiB }, [{ memoryBytes: 4n * GiB }], host, 1.5);
  });
  it('refuses past the ratio, naming the numbers', () => {
    assert.throws(
      () => checkAdmission('web', { memoryBytes: 5n * GiB }, [{ memoryBytes: 4n * GiB }], host, 1),
      (e: unknown) =>
        e instanceof AdmissionRefusedError &&
        e.message === 'Not enough memory to admit "web": 4.00GiB committed + 5.00GiB requested = 9.00GiB, over the 8.00GiB allowed (limits.memory.overcommit=1 × 8.00GiB host memory)',
    );
  });
});
