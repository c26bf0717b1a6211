import type { Quota } from '../domain/quota.js';
import type { QuotaRecord } from './quota.entity.js';

type QuotaColumns = Omit<QuotaRecord, 'id' | 'profileId' | 'instanceId' | 'updatedAt'>;

export function toColumns(q: Quota): QuotaColumns {
  return {
    cpuCount: q.cpu?.kind === 'count' ? q.cpu.count : null,
    cpuSet: q.cpu?.kind === 'set' ? q.cpu.cpus : null,
    cpuAllowancePercent: q.cpuAllowance?.kind === 'share' ? q.cpuAllowance.percent : null,
    cpuQuotaUs: q.cpuAllowance?.kind === 'quota' ? q.cpuAllowance.quotaUs : null,
    cpuPeriodUs: q.cpuAllowance?.kind === 'quota' ? q.cpuAllowance.periodUs : null,
    cpuPriority: q.cpuPriority ?? null,
    memoryBytes: q.memoryBytes ?? null,
    memoryPercent: q.memoryPercent ?? null,
    memoryEnforce: q.memoryEnforce ?? null,
    memorySwap: q.swap?.kind ?? null,
    memorySwapBytes: q.swap?.kind === 'bytes' ? q.swap.bytes : null,
    processes: q.processes ?? null,
    diskPriority: q.diskPriority ?? null,
    diskReadBps: q.diskRead?.kind === 'bytes' ? q.diskRead.perSecond : null,
    diskReadIops: q.diskRead?.kind === 'iops' ? q.diskRead.perSecond : null,
    diskWriteBps: q.diskWrite?.kind === 'bytes' ? q.diskWrite.perSecond : null,
    diskWriteIops: q.diskWrite?.kind === 'iops' ? q.diskWrite.perSecond : null,
  };
}

export function toQuota(r: QuotaColumns): Quota {
  const q: Quota = {};
  if (r.cpuCount !== null) q.cpu = { kind: 'count', count: r.cpuCount };
  if (r.cpuSet !== null) q.cpu = { kind: 'set', cpus: r.cpuSet };
  if (r.cpuAllowancePercent !== null) q.cpuAllowance = { kind: 'share', percent: r.cpuAllowancePercent };
  if (r.cpuQuotaUs !== null && r.cpuPeriodUs !== null) q.cpuAllowance = { kind: 'quota', quotaUs: r.cpuQuotaUs, periodUs: r.cpuPeriodUs };
  if (r.cpuPriority !== null) q.cpuPriority = r.cpuPriority;
  if (r.memoryBytes !== null) q.memoryBytes = r.memoryBytes;
  if (r.memoryPercent !== null) q.memoryPercent = r.memoryPercent;
  if (r.memoryEnforce !== null) q.memoryEnforce = r.memoryEnforce;
  if (r.memorySwap === 'bytes' && r.memorySwapBytes !== null) q.swap = { kind: 'bytes', bytes: r.memorySwapBytes };
  else if (r.memorySwap === 'on' || r.memorySwap === 'off') q.swap = { kind: r.memorySwap };
  if (r.processes !== null) q.processes = r.processes;
  if (r.diskPriority !== null) q.diskPriority = r.diskPriority;
  if (r.diskReadBps !== null) q.diskRead = { kind: 'bytes', perSecond: r.diskReadBps };
  if (r.diskReadIops !== null) q.diskRead = { kind: 'iops', perSecond: r.diskReadIops };
  if (r.diskWriteBps !== null) q.diskWrite = { kind: 'bytes', perSecond: r.diskWriteBps };
  if (r.diskWriteIops !== null) q.diskWrite = { kind: 'iops', perSecond: r.diskWriteIops };
  return q;
}
