import { ValidationError } from '#core';
import { parseBytes } from './bytes.js';
import { parseDiskIo, type IoRate } from './disk-io.js';
import type { HostCapacity } from './host.js';

export type CpuLimit = { kind: 'count'; count: number } | { kind: 'set'; cpus: number[] };
export type CpuAllowance = { kind: 'share'; percent: number } | { kind: 'quota'; quotaUs: number; periodUs: number };
export type SwapLimit = { kind: 'on' } | { kind: 'off' } | { kind: 'bytes'; bytes: bigint };

/**
 * The typed form of an instance's or profile's `limits.*` keys: what the host applies. Absent
 * fields mean "no limit set here" (a profile earlier in the chain, or nothing, decides).
 */
export interface Quota {
  cpu?: CpuLimit;
  cpuAllowance?: CpuAllowance;
  cpuPriority?: number;
  memoryBytes?: bigint;
  /** Set when the user gave a percentage; `memoryBytes` then holds its value on this host. */
  memoryPercent?: number;
  memoryEnforce?: 'hard' | 'soft';
  swap?: SwapLimit;
  processes?: number;
  diskPriority?: number;
  /** The root disk's `limits.read` (or `limits.max`): bytes or operations per second. */
  diskRead?: IoRate;
  /** The root disk's `limits.write` (or `limits.max`). */
  diskWrite?: IoRate;
}

export const QUOTA_KEYS = [
  'limits.cpu',
  'limits.cpu.allowance',
  'limits.cpu.priority',
  'limits.memory',
  'limits.memory.enforce',
  'limits.memory.swap',
  'limits.processes',
  'limits.disk.priority',
] as const;

const MIN_MEMORY = 1024n * 1024n;
const key = (k: string) => `config["${k}"]`;

function integer(k: string, text: string, min: number, max: number): number {
  if (!/^\d{1,10}$/.test(text)) throw new ValidationError(key(k), `"${text}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new ValidationError(key(k), `must be from ${min} to ${max}, not ${n}`);
  return n;
}

function parseCpu(text: string, host: HostCapacity): CpuLimit {
  const k = 'limits.cpu';
  if (/^\d{1,6}$/.test(text)) {
    const count = Number(text);
    if (count < 1) throw new ValidationError(key(k), 'must be at least 1 CPU');
    if (count > host.cpus.length) throw new ValidationError(key(k), `asks for ${count} CPUs but the host has ${host.cpus.length}`);
    return { kind: 'count', count };
  }
  if (!/^\d{1,6}(-\d{1,6})?(,\d{1,6}(-\d{1,6})?)*$/.test(text)) throw new ValidationError(key(k), `"${text}" is neither a CPU count nor a CPU set such as 0-1,3`);
  const cpus = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    if (b < a) throw new ValidationError(key(k), `range "${part}" is reversed`);
    for (let i = a; i <= b; i++) {
      if (!host.cpus.includes(i)) throw new ValidationError(key(k), `CPU ${i} does not exist on this host (online: ${host.cpus.join(',')})`);
      cpus.add(i);
    }
  }
  return { kind: 'set', cpus: [...cpus].sort((x, y) => x - y) };
}

function duration(k: string, text: string): number {
  const m = /^(\d{1,9})(us|ms|s)$/.exec(text);
  if (!m) throw new ValidationError(key(k), `"${text}" is not a duration such as 25ms`);
  return Number(m[1]) * (m[2] === 's' ? 1_000_000 : m[2] === 'ms' ? 1000 : 1);
}

function parseAllowance(text: string): CpuAllowance {
  const k = 'limits.cpu.allowance';
  const pct = /^(\d{1,4})%$/.exec(text);
  if (pct) return { kind: 'share', percent: integer(k, pct[1], 1, 100) };
  const parts = text.split('/');
  if (parts.length !== 2) throw new ValidationError(key(k), `"${text}" is neither a percentage (50%) nor a quota (25ms/100ms)`);
  const quotaUs = duration(k, parts[0]);
  const periodUs = duration(k, parts[1]);
  if (periodUs < 1000 || periodUs > 1_000_000) throw new ValidationError(key(k), 'the period must be from 1ms to 1s');
  if (quotaUs < 1000) throw new ValidationError(key(k), 'the quota must be at least 1ms');
  if (quotaUs > periodUs) throw new ValidationError(key(k), `the quota (${parts[0]}) must not exceed the period (${parts[1]})`);
  return { kind: 'quota', quotaUs, periodUs };
}

function parseMemory(text: string, host: HostCapacity): Pick<Quota, 'memoryBytes' | 'memoryPercent'> {
  const k = 'limits.memory';
  const pct = /^(-?\d+)%$/.exec(text);
  if (pct) {
    const percent = Number(pct[1]);
    if (!Number.isInteger(percent) || percent < 1 || percent > 100) throw new ValidationError(key(k), `a percentage must be from 1% to 100%, not ${text}`);
    return { memoryPercent: percent, memoryBytes: (host.memoryBytes * BigInt(percent)) / 100n };
  }
  const bytes = parseBytes(key(k), text);
  if (bytes < MIN_MEMORY) throw new ValidationError(key(k), `must be at least 1MiB, not ${text}`);
  return { memoryBytes: bytes };
}

function parseSwap(text: string): SwapLimit {
  if (/^(true|on|yes|1)$/i.test(text)) return { kind: 'on' };
  if (/^(false|off|no|0)$/i.test(text)) return { kind: 'off' };
  return { kind: 'bytes', bytes: parseBytes(key('limits.memory.swap'), text) };
}

/**
 * Parses the `limits.*` keys of one config map and, when `devices` is given, the I/O limits of its
 * disk devices (the root disk's are kept). Throws a ValidationError naming the key for any value
 * the host could not apply; never anything else.
 */
export function parseQuota(config: Readonly<Record<string, string>>, host: HostCapacity, devices?: Readonly<Record<string, Readonly<Record<string, string>>>>): Quota {
  const q: Quota = {};
  const v = (k: (typeof QUOTA_KEYS)[number]) => config[k];
  if (v('limits.cpu') !== undefined) q.cpu = parseCpu(v('limits.cpu')!, host);
  if (v('limits.cpu.allowance') !== undefined) q.cpuAllowance = parseAllowance(v('limits.cpu.allowance')!);
  if (v('limits.cpu.priority') !== undefined) q.cpuPriority = integer('limits.cpu.priority', v('limits.cpu.priority')!, 0, 10);
  if (v('limits.memory') !== undefined) Object.assign(q, parseMemory(v('limits.memory')!, host));
  if (v('limits.memory.enforce') !== undefined) {
    const e = v('limits.memory.enforce')!;
    if (e !== 'hard' && e !== 'soft') throw new ValidationError(key('limits.memory.enforce'), `must be hard or soft, not "${e}"`);
    q.memoryEnforce = e;
  }
  if (v('limits.memory.swap') !== undefined) q.swap = parseSwap(v('limits.memory.swap')!);
  if (v('limits.processes') !== undefined) q.processes = integer('limits.processes', v('limits.processes')!, 1, 4_194_304);
  if (v('limits.disk.priority') !== undefined) q.diskPriority = integer('limits.disk.priority', v('limits.disk.priority')!, 0, 10);
  if (devices) {
    const io = parseDiskIo(devices);
    if (io.read) q.diskRead = io.read;
    if (io.write) q.diskWrite = io.write;
  }
  return q;
}
