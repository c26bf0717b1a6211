import type { IoRate } from './disk-io.js';
import type { Quota } from './quota.js';

/** One write into a cgroup controller file. `controller` selects the v1 hierarchy; v2 has one tree. */
export interface CgroupWrite {
  controller: 'memory' | 'cpu' | 'cpuset' | 'pids' | 'blkio' | 'io';
  file: string;
  value: string;
}

/**
 * CPU shares from allowance and priority, following LXD's documented behaviour: a percentage
 * allowance gives a proportional share under contention, and each priority step below 10 takes a
 * little weight away.
 */
export function cpuShares(q: Quota): number {
  const base = q.cpuAllowance?.kind === 'share' ? q.cpuAllowance.percent * 10 + 24 : 1024;
  return Math.max(2, base - (10 - (q.cpuPriority ?? 10)));
}

/** Proportional conversion of v1 cpu.shares to v2 cpu.weight, as systemd does: 1024 -> 100, clamped to 1..10000. */
export const sharesToWeight = (shares: number): number => Math.max(1, Math.min(10000, Math.round((shares * 100) / 1024)));

/** Disk priority 0-10 to blkio.weight (10..1000) and io.weight (1..10000); 5 is the kernel default. */
const blkioWeight = (p: number) => Math.max(10, p * 100);
const ioWeight = (p: number) => Math.max(1, p * 20);

/** Where disk I/O limits go on this host. */
export interface DiskIoTarget {
  /** `MAJ:MIN` of the block device under the instance's volume; without one no throttle is written. */
  device?: string;
  /** Write every throttle, unset ones as "no limit", so that a key removed since the start is lifted (live changes). */
  reset?: boolean;
  /** v1's weight file: `blkio.weight` (kernels with CFQ) or `blkio.bfq.weight` (BFQ; CFQ is gone since 5.0). Default `blkio.weight`. */
  weightFile?: 'blkio.weight' | 'blkio.bfq.weight';
}

/** True when `q` limits the root disk's reads or writes. */
export const hasDiskIoLimits = (q: Quota): boolean => q.diskRead !== undefined || q.diskWrite !== undefined;

const rate = (r: IoRate | undefined, kind: IoRate['kind']): string | undefined => (r?.kind === kind ? String(r.perSecond) : undefined);

function v1Throttles(q: Quota, io: DiskIoTarget): CgroupWrite[] {
  if (!io.device || (!hasDiskIoLimits(q) && !io.reset)) return [];
  // v1 takes one rule per device and file; 0 removes the rule.
  const rule = (file: string, value: string | undefined): CgroupWrite => ({ controller: 'blkio', file: `blkio.throttle.${file}`, value: `${io.device} ${value ?? 0}` });
  return [
    rule('read_bps_device', rate(q.diskRead, 'bytes')),
    rule('read_iops_device', rate(q.diskRead, 'iops')),
    rule('write_bps_device', rate(q.diskWrite, 'bytes')),
    rule('write_iops_device', rate(q.diskWrite, 'iops')),
  ];
}

function v2Throttles(q: Quota, io: DiskIoTarget): CgroupWrite[] {
  if (!io.device || (!hasDiskIoLimits(q) && !io.reset)) return [];
  const v = (r: IoRate | undefined, kind: IoRate['kind']) => rate(r, kind) ?? 'max';
  const value = `${io.device} rbps=${v(q.diskRead, 'bytes')} wbps=${v(q.diskWrite, 'bytes')} riops=${v(q.diskRead, 'iops')} wiops=${v(q.diskWrite, 'iops')}`;
  return [{ controller: 'io', file: 'io.max', value }];
}

/**
 * The writes that apply `q` to one container's cgroups. `cpus` is the resolved CPU set (a count
 * is resolved by the caller, which knows the other containers); `swapAccounting` tells whether
 * memory.memsw.* exists (v1 without swapaccount=1 has no swap limit); `io` says where disk limits go.
 */
export function cgroupV1Writes(q: Quota, cpus: number[] | undefined, swapAccounting: boolean, io: DiskIoTarget = {}): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (q.memoryBytes !== undefined) {
    const bytes = q.memoryBytes.toString();
    if (q.memoryEnforce === 'soft') {
      w.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: bytes });
    } else {
      w.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: bytes });
      if (swapAccounting && q.swap) {
        const memsw = q.swap.kind === 'off' ? q.memoryBytes : q.swap.kind === 'bytes' ? q.memoryBytes + q.swap.bytes : -1n;
        w.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: memsw.toString() });
      }
    }
  }
  if (q.cpuAllowance?.kind === 'quota') {
    w.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(q.cpuAllowance.periodUs) });
    w.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(q.cpuAllowance.quotaUs) });
  }
  if (q.cpuAllowance || q.cpuPriority !== undefined) w.push({ controller: 'cpu', file: 'cpu.shares', value: String(cpuShares(q)) });
  if (cpus) w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: cpus.join(',') });
  if (q.processes !== undefined) w.push({ controller: 'pids', file: 'pids.max', value: String(q.processes) });
  if (q.diskPriority !== undefined) w.push({ controller: 'blkio', file: io.weightFile ?? 'blkio.weight', value: String(blkioWeight(q.diskPriority)) });
  w.push(...v1Throttles(q, io));
  return w;
}

export function cgroupV2Writes(q: Quota, cpus: number[] | undefined, io: DiskIoTarget = {}): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (q.memoryBytes !== undefined) {
    w.push({ controller: 'memory', file: q.memoryEnforce === 'soft' ? 'memory.high' : 'memory.max', value: q.memoryBytes.toString() });
    if (q.swap) w.push({ controller: 'memory', file: 'memory.swap.max', value: q.swap.kind === 'off' ? '0' : q.swap.kind === 'bytes' ? q.swap.bytes.toString() : 'max' });
  }
  if (q.cpuAllowance?.kind === 'quota') w.push({ controller: 'cpu', file: 'cpu.max', value: `${q.cpuAllowance.quotaUs} ${q.cpuAllowance.periodUs}` });
  if (q.cpuAllowance || q.cpuPriority !== undefined) w.push({ controller: 'cpu', file: 'cpu.weight', value: String(sharesToWeight(cpuShares(q))) });
  if (cpus) w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: cpus.join(',') });
  if (q.processes !== undefined) w.push({ controller: 'pids', file: 'pids.max', value: String(q.processes) });
  if (q.diskPriority !== undefined) w.push({ controller: 'io', file: 'io.weight', value: `default ${ioWeight(q.diskPriority)}` });
  w.push(...v2Throttles(q, io));
  return w;
}
