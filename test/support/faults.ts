import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { Daemon } from './daemon.js';

const exec = promisify(execFile);

/**
 * Holds the next operation that reaches `step` (BERTH_TEST_HOOKS must be on): the daemon writes
 * `<step>.reached` there and waits until the gate is removed (or the daemon is killed).
 */
export async function holdAt(d: Daemon, step: string): Promise<void> {
  await mkdir(join(d.dir, 'test-hooks'), { recursive: true });
  await writeFile(join(d.dir, 'test-hooks', step), '');
}

/** Waits until an operation is held at `step`. */
export async function reached(d: Daemon, step: string, timeoutMs = 120_000): Promise<void> {
  const file = join(d.dir, 'test-hooks', `${step}.reached`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no operation reached ${step} within ${timeoutMs} ms: ${readFileSync(d.logFile, 'utf8').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Removes every gate (and what was reached): the next start of the daemon runs without holds. */
export async function clearHolds(d: Daemon): Promise<void> {
  await rm(join(d.dir, 'test-hooks'), { recursive: true, force: true });
}

/** Everything on the host a daemon at `dir` may create, as sorted strings: two snapshots must be equal. */
export interface HostResources {
  files: string[];
  subvolumes: string[];
  mounts: string[];
  loops: string[];
  cgroups: string[];
  links: string[];
  processes: string[];
}

/** Files under BERTH_DIR that change by themselves (the database, daemon logs, the hooks) are left out; image roots are not walked. */
const SKIP = new Set(['database', 'test-hooks', 'rootfs', 'templates']);

/** The entries of `dir`; none when it went away while we looked. */
function entriesOf(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function walk(root: string, dir: string, out: string[]): void {
  for (const e of entriesOf(dir)) {
    const path = join(dir, e.name);
    const rel = relative(root, path);
    if (SKIP.has(e.name) || /^berthd-\d+\.log$/.test(rel) || rel === 'unix.socket' || rel === 'berthd.pid') continue;
    // The daemon's own top-level directories (containers/, logs/) appear with their first user and stay.
    if (!(e.isDirectory() && dir === root)) out.push(e.isDirectory() ? `${rel}/` : rel);
    if (e.isDirectory() && !e.isSymbolicLink()) walk(root, path, out);
  }
}

/** Whether a cgroup path belongs to one of `instances` (`berth/<name>-<hex>`, `berth/monitor/<name>-<hex>`); all of Berth's without a list. */
function ofInstances(path: string, instances?: string[]): boolean {
  if (!instances) return path.includes('berth');
  return instances.some((name) => new RegExp(`/berth/(monitor/)?${name}-[0-9a-f]+(/|$)`).test(`/${path}`));
}

function cgroupDirs(instances?: string[]): string[] {
  const out: string[] = [];
  for (const controller of readdirSync('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', controller);
    const visit = (dir: string, depth: number) => {
      if (depth > 4) return;
      for (const e of entriesOf(dir)) {
        if (!e.isDirectory()) continue;
        const path = join(dir, e.name);
        if (ofInstances(relative('/sys/fs/cgroup', path), instances)) out.push(relative('/sys/fs/cgroup', path));
        visit(path, depth + 1);
      }
    };
    visit(base, 0);
  }
  return out;
}

/** Processes that mention `dir` or whose cgroup is one of Berth's, except the daemon and its Postgres. */
function processes(dir: string, daemonPid: number, instances?: string[]): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    if (Number(pid) === process.pid || Number(pid) === daemonPid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmdline.includes(join(dir, 'database')) || /^postgres: /.test(cmdline)) continue;
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (cmdline.includes(dir) || cgroup.split('\n').some((l) => ofInstances(l.split(':')[2] ?? '', instances))) out.push(cmdline);
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/**
 * What a daemon may hold on the host, limited to one daemon's when others run beside it: the
 * cgroups and processes of `instances`, the links of `bridges` (the bridge, the veths on it) and
 * any veth whose peer is on the host too (a half-made pair). Without them, everything Berth's.
 */
export interface Scope {
  instances?: string[];
  bridges?: string[];
}

/** A snapshot of what the daemon at `d` holds on the host; compare two with assert.deepEqual. */
export async function hostResources(d: Daemon, scope: Scope = {}): Promise<HostResources> {
  const files: string[] = [];
  walk(d.dir, d.dir, files);
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const mounts = mountinfo.map((l) => l.split(' ')[4]).filter((m): m is string => m !== undefined && m.includes(d.dir));
  const { stdout: loopList } = await exec('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE']);
  const loops = loopList.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(d.dir));
  const subvolumes: string[] = [];
  for (const m of mounts) {
    const { stdout } = await exec('btrfs', ['subvolume', 'list', '-o', m]).catch(() => ({ stdout: '' }));
    subvolumes.push(...stdout.split('\n').map((l) => l.replace(/^.* path /, '')).filter(Boolean));
  }
  const { stdout: linkList } = await exec('ip', ['-o', '-d', 'link', 'show']);
  const links = linkList
    .split('\n')
    .filter((l) => {
      if (!scope.bridges) return true;
      const name = l.split(': ')[1]?.split('@')[0];
      const master = / master (\S+)/.exec(l)?.[1];
      const halfMadeVeth = /\bveth\b/.test(l) && !master && !/link-netnsid/.test(l);
      return scope.bridges.includes(name ?? '') || scope.bridges.includes(master ?? '') || halfMadeVeth;
    })
    .map((l) => l.split(': ')[1]?.split('@')[0])
    .filter((n): n is string => !!n);
  return {
    files: files.sort(),
    subvolumes: [...new Set(subvolumes)].sort(),
    mounts: [...new Set(mounts)].sort(),
    loops: loops.sort(),
    cgroups: cgroupDirs(scope.instances).sort(),
    links: links.sort(),
    processes: processes(d.dir, d.pid, scope.instances).sort(),
  };
}

/** What differs between two snapshots, for an assertion message that names the leftovers. */
export function resourceDiff(before: HostResources, after: HostResources): Record<string, { added: string[]; removed: string[] }> {
  const out: Record<string, { added: string[]; removed: string[] }> = {};
  for (const key of Object.keys(before) as Array<keyof HostResources>) {
    const added = after[key].filter((x) => !before[key].includes(x));
    const removed = before[key].filter((x) => !after[key].includes(x));
    if (added.length || removed.length) out[key] = { added, removed };
  }
  return out;
}

/**
 * The difference between `before` and the host now, once it has settled (a veth whose namespace
 * is going, a cgroup being removed): asked every 200 ms for up to 10 s; `{}` when equal.
 */
export async function settledDiff(d: Daemon, before: HostResources, scope: Scope = {}): Promise<ReturnType<typeof resourceDiff>> {
  let diff: ReturnType<typeof resourceDiff> = {};
  for (let i = 0; i < 50; i++) {
    diff = resourceDiff(before, await hostResources(d, scope));
    if (Object.keys(diff).length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return diff;
}

/** Polls `fn` until it returns something other than undefined. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

