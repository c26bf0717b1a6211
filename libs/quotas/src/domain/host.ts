import { readFileSync } from 'node:fs';

/** What the host has, against which limits are checked and committed totals compared. */
export interface HostCapacity {
  /** Online CPU ids, ascending. */
  cpus: number[];
  memoryBytes: bigint;
}

/** Parses a kernel CPU list such as `0-3,8,10-11`. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

export function readHostCapacity(): HostCapacity {
  const cpus = parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
  const kb = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? '0';
  return { cpus, memoryBytes: BigInt(kb) * 1024n };
}
