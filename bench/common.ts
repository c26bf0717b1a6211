/**
 * Helpers shared by the benchmarks: the session of a benchmark against LXD, memory of processes
 * read from /proc, the padded copy of an image tarball, and the statistics and table of a report.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

import type { Daemon } from '../test/support/daemon.js';
import { ensureLxd, must, run, type Lxd } from './lxd.js';

/* ------------------------------------------------------------------------------------------- */
/* command line                                                                                */

/** A benchmark's command line, parsed: options' values and flags by long name. */
export interface BenchArgs {
  value(name: string): string | undefined;
  flag(name: string): boolean;
}

/**
 * Parses a benchmark's command line with node's parseArgs, strictly: an unknown option, a
 * missing value or a positional argument is an error. `--help` (`-h`) prints `usage` and exits.
 */
export function benchArgs(argv: string[], usage: string, valueOptions: readonly string[], flags: readonly string[] = []): BenchArgs {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const name of valueOptions) options[name] = { type: 'string' };
  for (const name of flags) options[name] = { type: 'boolean' };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  if (values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  const all = values as Record<string, string | boolean | undefined>;
  return {
    value: (name) => (typeof all[name] === 'string' ? all[name] : undefined),
    flag: (name) => all[name] === true,
  };
}

/** `text` as an integer of at least `min` (`fallback` when absent), or an error naming --`name`. */
export function integerArg(name: string, text: string | undefined, min: number, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${JSON.stringify(text)})`);
  return n;
}

/** A comma-separated list of `allowed` words (`fallback` when absent), or an error naming --`name`. */
export function listArg<T extends string>(name: string, text: string | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (text === undefined) return [...fallback];
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => !(allowed as readonly string[]).includes(item))) throw new Error(`--${name} takes a list of ${allowed.join(',')}`);
  return items as T[];
}

/* ------------------------------------------------------------------------------------------- */
/* Debian packages                                                                             */

/** The packages of a list in scripts/ (one a line, `#` starts a comment), read as scripts/setup.sh reads it. */
export function packageList(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((name) => name !== '');
}

/**
 * Installs, when the host lacks them, the packages of scripts/apt-packages-test (LXD and its
 * client among them): the list scripts/test.sh installs, so a benchmark runs on a host set up
 * for Berth alone.
 */
export async function ensureTestPackages(log: (line: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const name of packageList(fileURLToPath(new URL('../../scripts/apt-packages-test', import.meta.url)))) {
    if (!(await run('dpkg-query', ['-W', '-f', '${Status}', name])).stdout.includes('install ok installed')) missing.push(name);
  }
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} from Debian (scripts/apt-packages-test)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await must('apt-get', ['update', '-qq'], { env, timeoutMs: 10 * 60_000 });
  await must('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 15 * 60_000 });
}

/* ------------------------------------------------------------------------------------------- */
/* a session against LXD                                                                       */

/**
 * What a benchmark of berthd against LXD holds for its whole run: a work directory under
 * /var/tmp (mode 0711: Postgres runs as its own user and must traverse to BERTH_DIR/database),
 * the versions compared, the load average at the start, and the two daemons, stopped and removed
 * by `close` (also after a Ctrl-C, which lets the step under way end first).
 */
export class LxdBenchSession {
  readonly cleanupProblems: string[] = [];
  readonly loadBefore = os.loadavg();
  daemon: Daemon | null = null;
  lxd: Lxd | null = null;
  private stopped = false;

  private constructor(
    readonly work: string,
    readonly versions: Readonly<Record<'lxd' | 'kernel' | 'berth', string>>,
  ) {}

  /** Installs the test packages (LXD among them) when missing, makes the work directory, and logs the versions. */
  static async open(prefix: string, log: (line: string) => void): Promise<LxdBenchSession> {
    await ensureTestPackages(log);
    const lxdVersion = await ensureLxd(log);
    const berth = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
    const work = await mkdtemp(path.join('/var/tmp', prefix));
    await chmod(work, 0o711);
    const session = new LxdBenchSession(work, { lxd: lxdVersion, kernel: os.release(), berth });
    process.once('SIGINT', () => {
      session.stopped = true;
      log('interrupted: cleaning up after the current step');
    });
    log(`LXD ${lxdVersion}, Berth ${berth}, kernel ${os.release()}, ${os.availableParallelism()} CPUs`);
    return session;
  }

  get interrupted(): boolean {
    return this.stopped;
  }

  /** Throws once a Ctrl-C came: call it between steps. */
  check(): void {
    if (this.stopped) throw new Error('interrupted');
  }

  /** Stops both daemons (what could not be undone goes to `cleanupProblems`) and removes the work directory. */
  async close(): Promise<void> {
    if (this.lxd) this.cleanupProblems.push(...(await this.lxd.close()));
    if (this.daemon) await this.daemon.destroy().catch((e: Error) => this.cleanupProblems.push(`berthd: ${e.message}`));
    await rm(this.work, { recursive: true, force: true });
  }
}

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
