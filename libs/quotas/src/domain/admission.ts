import { DomainError } from '#core';
import type { HostCapacity } from './host.js';
import type { Quota } from './quota.js';

export class AdmissionRefusedError extends DomainError {
  readonly code = 'QUOTA.ADMISSION_REFUSED';
}

const GiB = 1024 ** 3;
const gib = (bytes: bigint) => `${(Number(bytes) / GiB).toFixed(2)}GiB`;

/** What the instances of a host have been promised, beside what the host has. */
export interface CommittedTotals {
  instances: number;
  /** Sum of hard and soft memory limits; instances without a limit add nothing. */
  memory_bytes: bigint;
  unlimited_memory_instances: number;
  /** CPUs promised by count or set (a set of 2 CPUs counts 2). */
  cpus: number;
  /** Sum of hard CPU quotas, in CPUs (25ms/100ms is 0.25). */
  cpu_quota: number;
  processes: number;
}

export function committedTotals(quotas: Quota[]): CommittedTotals {
  const t: CommittedTotals = { instances: quotas.length, memory_bytes: 0n, unlimited_memory_instances: 0, cpus: 0, cpu_quota: 0, processes: 0 };
  for (const q of quotas) {
    if (q.memoryBytes === undefined) t.unlimited_memory_instances++;
    else t.memory_bytes += q.memoryBytes;
    if (q.cpu) t.cpus += q.cpu.kind === 'count' ? q.cpu.count : q.cpu.cpus.length;
    if (q.cpuAllowance?.kind === 'quota') t.cpu_quota += q.cpuAllowance.quotaUs / q.cpuAllowance.periodUs;
    if (q.processes) t.processes += q.processes;
  }
  t.cpu_quota = Math.round(t.cpu_quota * 1000) / 1000;
  return t;
}

/**
 * Refuses a candidate whose memory limit, added to the others', would exceed `ratio` times the
 * host's memory. A candidate without a memory limit is not refused (and adds nothing for the
 * others): it is reported as such in the committed totals.
 */
export function checkAdmission(name: string, candidate: Quota, others: Quota[], host: HostCapacity, ratio: number): void {
  if (candidate.memoryBytes === undefined) return;
  const committed = committedTotals(others).memory_bytes;
  const allowed = (host.memoryBytes * BigInt(Math.round(ratio * 1000))) / 1000n;
  if (committed + candidate.memoryBytes > allowed) {
    throw new AdmissionRefusedError(
      `Not enough memory to admit "${name}": ${gib(committed)} committed + ${gib(candidate.memoryBytes)} requested = ${gib(committed + candidate.memoryBytes)}, ` +
        `over the ${gib(allowed)} allowed (limits.memory.overcommit=${ratio} × ${gib(host.memoryBytes)} host memory)`,
    );
  }
}
