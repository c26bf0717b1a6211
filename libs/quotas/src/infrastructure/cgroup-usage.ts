import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a container's cgroup reports: usage counters, and the limits in force (null: none). */
export interface CgroupUsage {
  memory: number;
  memoryPeak: number;
  swap: number;
  processes: number;
  cpuNs: number;
  io: { readBytes: number; writtenBytes: number };
  /** Processes the OOM killer ended because this cgroup's memory limit was reached. */
  oomKills: number;
  limits: {
    memory: number | null;
    memorySoft: number | null;
    /** Swap allowed beyond the memory limit (v1: memsw minus memory); 0 is none. */
    swap: number | null;
    /** The effective CPU set. */
    cpus: string;
    cpuQuota: { quotaUs: number; periodUs: number } | null;
    /** v1 cpu.shares, v2 cpu.weight. */
    cpuWeight: number | null;
    processes: number | null;
  };
}

/**
 * One cgroup: `rel` below `root` (normally /sys/fs/cgroup), in the per-controller hierarchies
 * of v1 (and hybrid) hosts, or in the one tree of v2.
 */
export interface CgroupLocation {
  version: 1 | 2;
  root: string;
  rel: string;
}

async function read(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return '';
  }
}

const int = (text: string | undefined): number | undefined => (text && /^\d+$/.test(text) ? Number(text) : undefined);

/** A limit in bytes: null for none (`max`, or v1's page-rounded LLONG_MAX). */
function limitBytes(text: string): number | null {
  const n = int(text);
  return n === undefined || n >= 2 ** 62 ? null : n;
}

const oomKillsOf = (text: string): number => Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);

/** v1 `blkio.throttle.io_service_bytes`: `MAJ:MIN Read|Write|... N` lines and a `Total`. */
function v1IoBytes(text: string): CgroupUsage['io'] {
  const io = { readBytes: 0, writtenBytes: 0 };
  for (const [, op, n] of text.matchAll(/^\d+:\d+ (Read|Write) (\d+)$/gm)) {
    if (op === 'Read') io.readBytes += Number(n);
    else io.writtenBytes += Number(n);
  }
  return io;
}

/** v2 `io.stat`: `MAJ:MIN rbytes=N wbytes=N rios=N ...` per device. */
function v2IoBytes(text: string): CgroupUsage['io'] {
  const io = { readBytes: 0, writtenBytes: 0 };
  for (const [, key, n] of text.matchAll(/\b(rbytes|wbytes)=(\d+)/g)) {
    if (key === 'rbytes') io.readBytes += Number(n);
    else io.writtenBytes += Number(n);
  }
  return io;
}

const fileOf = ({ version, root, rel }: CgroupLocation, controller: string, name: string) =>
  version === 1 ? join(root, controller, rel, name) : join(root, rel, name);

/**
 * Reads a cgroup's usage (hierarchical counters: the container's children included) and the
 * limits in force. A file that cannot be read counts as zero, or as no limit.
 */
export async function readCgroupUsage(at: CgroupLocation): Promise<CgroupUsage> {
  const file = (controller: string, name: string) => read(fileOf(at, controller, name));
  if (at.version === 1) {
    const memory = int(await file('memory', 'memory.usage_in_bytes')) ?? 0;
    const memsw = int(await file('memory', 'memory.memsw.usage_in_bytes')) ?? memory;
    const memoryLimit = limitBytes(await file('memory', 'memory.limit_in_bytes'));
    const memswLimit = limitBytes(await file('memory', 'memory.memsw.limit_in_bytes'));
    const quota = int(await file('cpu', 'cpu.cfs_quota_us'));
    return {
      memory,
      memoryPeak: int(await file('memory', 'memory.max_usage_in_bytes')) ?? 0,
      swap: Math.max(0, memsw - memory),
      processes: int(await file('pids', 'pids.current')) ?? 0,
      cpuNs: int(await file('cpuacct', 'cpuacct.usage')) ?? 0,
      io: v1IoBytes((await file('blkio', 'blkio.throttle.io_service_bytes_recursive')) || (await file('blkio', 'blkio.throttle.io_service_bytes'))),
      oomKills: await readOomKills(at),
      limits: {
        memory: memoryLimit,
        memorySoft: limitBytes(await file('memory', 'memory.soft_limit_in_bytes')),
        swap: memoryLimit === null || memswLimit === null ? null : memswLimit - memoryLimit,
        cpus: (await file('cpuset', 'cpuset.effective_cpus')) || (await file('cpuset', 'cpuset.cpus')),
        cpuQuota: quota !== undefined ? { quotaUs: quota, periodUs: int(await file('cpu', 'cpu.cfs_period_us')) ?? 100_000 } : null,
        cpuWeight: int(await file('cpu', 'cpu.shares')) ?? null,
        processes: int(await file('pids', 'pids.max')) ?? null,
      },
    };
  }
  const [quota, period] = (await file('cpu', 'cpu.max')).split(' ');
  return {
    memory: int(await file('memory', 'memory.current')) ?? 0,
    memoryPeak: int(await file('memory', 'memory.peak')) ?? 0,
    swap: int(await file('memory', 'memory.swap.current')) ?? 0,
    processes: int(await file('pids', 'pids.current')) ?? 0,
    cpuNs: Number(/^usage_usec (\d+)$/m.exec(await file('cpu', 'cpu.stat'))?.[1] ?? 0) * 1000,
    io: v2IoBytes(await file('io', 'io.stat')),
    oomKills: await readOomKills(at),
    limits: {
      memory: limitBytes(await file('memory', 'memory.max')),
      memorySoft: limitBytes(await file('memory', 'memory.high')),
      swap: limitBytes(await file('memory', 'memory.swap.max')),
      cpus: await file('cpuset', 'cpuset.cpus.effective'),
      cpuQuota: int(quota) !== undefined ? { quotaUs: int(quota)!, periodUs: int(period) ?? 100_000 } : null,
      cpuWeight: int(await file('cpu', 'cpu.weight')) ?? null,
      processes: int(await file('pids', 'pids.max')) ?? null,
    },
  };
}

/**
 * How many processes the OOM killer has ended in the cgroup and below (0 when unreadable). v2's
 * `memory.events` counts the whole subtree; v1 counts a kill in the victim's own cgroup only
 * (`oom_kill` of `memory.oom_control`), where the limit that caused it may be an ancestor's, so
 * the subtree is summed.
 */
export async function readOomKills(at: CgroupLocation): Promise<number> {
  if (at.version === 2) return oomKillsOf(await read(fileOf(at, 'memory', 'memory.events')));
  const sum = async (dir: string): Promise<number> => {
    let kills = oomKillsOf(await read(join(dir, 'memory.oom_control')));
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) kills += await sum(join(dir, e.name));
    return kills;
  };
  return sum(join(at.root, 'memory', at.rel));
}
