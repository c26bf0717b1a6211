/**
 * Helpers shared by the benchmarks: memory of processes read from /proc, the padded copy of an
 * image tarball, and the statistics and table of a report.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { must } from './lxd.js';

/* ------------------------------------------------------------------------------------------- */
/* /proc                                                                                       */

export function statusKiB(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line ? Number.parseInt(line.slice(field.length + 1), 10) : 0;
}

export function pssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Pss:'));
  return line ? Number.parseInt(line.slice(4), 10) : 0;
}

export function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** `root` and all its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const pid = Number(entry);
      const ppid = parentOf(pid);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

export interface Memory {
  rssKiB: number;
  pssKiB: number;
}

/** Summed VmRSS and PSS of `pids`; `pss: false` skips smaps_rollup (cheaper, for fast sampling; pssKiB is then 0). */
export function memoryOf(pids: number[], { pss: withPss = true }: { pss?: boolean } = {}): Memory {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      rss += statusKiB(pid, 'VmRSS');
      if (withPss) pss += pssKiB(pid);
    } catch {
      /* exited meanwhile */
    }
  }
  return { rssKiB: rss, pssKiB: pss };
}

/* ------------------------------------------------------------------------------------------- */
/* images                                                                                      */

/** A copy of `tarball` with one more rootfs file of `mib` MiB of random bytes (GNU tar --append). */
export async function paddedImage(tarball: string, work: string, mib: number): Promise<string> {
  const out = path.join(work, `debian-12-pad${mib}.tar`);
  await copyFile(tarball, out);
  const stage = path.join(work, 'pad');
  await mkdir(path.join(stage, 'rootfs', 'var'), { recursive: true });
  const chunk = 1 << 20;
  let left = mib;
  await pipeline(
    new Readable({
      read() {
        this.push(left-- > 0 ? randomBytes(chunk) : null);
      },
    }),
    createWriteStream(path.join(stage, 'rootfs', 'var', 'bench-padding')),
  );
  await must('tar', ['--append', '-f', out, '-C', stage, '--owner=0', '--group=0', '--numeric-owner', 'rootfs/var/bench-padding']);
  await rm(stage, { recursive: true, force: true });
  return out;
}

/* ------------------------------------------------------------------------------------------- */
/* report                                                                                      */

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function stats(values: number[]): Stats | null {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { n: xs.length, median, min: xs[0]!, max: xs[xs.length - 1]! };
}

export function fmt(s: Stats | null, digits: number): string {
  if (!s) return '—';
  const f = (v: number) => v.toFixed(digits);
  return s.n > 1 ? `${f(s.median)} [${f(s.min)}–${f(s.max)}]` : f(s.median);
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
