/**
 * Images benchmark: import time and peak daemon memory of berthd against LXD 5.0.2 (Debian's
 * package), the same image files given to both in one run, each daemon on a btrfs loop pool.
 *
 *   npm run bench:images   (= npm run build && node dist/bench/images.js)
 *   node dist/bench/images.js [--rounds N] [--pad-mib N,N,...] [--sample-ms N] [--lxd-dir DIR] [--json FILE]
 *
 * Needs root. Installs the `lxd` package if missing (bench/lxd.ts), runs a private `lxd` on
 * --lxd-dir (default /var/lib/berth-bench-images-lxd) with a btrfs loop pool and no network, and
 * a berthd on a temporary BERTH_DIR (BERTH_STORAGE_DRIVER=btrfs, no default network). Everything
 * is deleted at the end, also on SIGINT (after the step under way).
 *
 * Inputs: the debian-12 unified tarball (test/support/debian-image.ts, as `berth image build
 * images/debian-12` makes it), copies padded with --pad-mib (500,1500) MiB of random bytes, and
 * the debian-12 tarball compressed with gzip level 1. Their sha256 is computed first (it is the
 * fingerprint both must report; reading them also puts them in the page cache for both).
 *
 * Each round, for each input, Berth and LXD one after the other (alternating which goes first):
 *  - import: `berth image import FILE --alias A` / `lxc image import FILE --alias A`, wall time
 *    of the CLI until it returns. Berth's includes the upload, hashing and storing the file, and
 *    the import operation, which unpacks the rootfs into a btrfs subvolume of the pool; LXD's
 *    includes the upload, hashing and storing the file and reading its metadata, not unpacking.
 *  - first init: `berth init A X` / `lxc init A X`. Berth's snapshots the volume unpacked at
 *    import; LXD's unpacks the image into a volume of its pool (first use), then snapshots it.
 *  - import + first init: the sum, the fair comparison of "file to a usable instance".
 *  Then the instance and the image are deleted and `sync` runs (untimed), so that no writeback of
 *  one step lands in the next.
 *
 * Memory, during each import and each first init: VmRSS of the daemon process (berthd / lxd) and
 * the sum over it and all its descendants (berthd: its Postgres processes, berth-unpack and any
 * decompressor; lxd: whatever it forks), sampled every --sample-ms (20) ms; reported as the peak
 * and as the peak minus the idle value (median of 0.5 s of samples just before the step). The
 * daemon's own VmHWM is reset before the step (/proc/PID/clear_refs, 5) and read after it: the
 * kernel's exact peak, to check the sampling missed nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { runBerth } from '../test/support/cli.js';
import { startDaemon, type Daemon } from '../test/support/daemon.js';
import { ensureDebianImage } from '../test/support/debian-image.js';
import { benchArgs, fmt, integerArg, LxdBenchSession, memoryOf, paddedImage, processTree, stats, statusKiB, table, type Stats } from './common.js';
import { Lxd, must, run, sleep } from './lxd.js';

type Engine = 'berth' | 'lxd';
const ENGINES: Engine[] = ['berth', 'lxd'];
const ALIAS = 'bench/image';
const INSTANCE = 'bench-first';
const IDLE_MS = 500;
const STEP_TIMEOUT_MS = 15 * 60_000;
const MiB = 1024 * 1024;

interface Options {
  rounds: number;
  padMiB: number[];
  sampleMs: number;
  lxdDir: string;
  json: string | null;
}

interface Input {
  label: string;
  file: string;
  bytes: number;
  /** sha256 of the file, computed here. */
  fingerprint: string;
  /** What each daemon reported. */
  reported: Record<Engine, string[]>;
}

const now = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(now() - t0) / 1e6;
const startedAt = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)}s] ${line}`);

/* ------------------------------------------------------------------------------------------- */
/* memory sampling                                                                             */

interface Peaks {
  /** Median of the samples before the step, KiB. */
  idleMain: number;
  idleTree: number;
  /** Highest sample during the step, KiB. */
  peakMain: number;
  peakTree: number;
  /** The daemon's VmHWM after the step (reset just before it), KiB. */
  hwmMain: number;
  samples: number;
  /** Longest gap between two samples, ms (the event loop may delay a tick). */
  maxGapMs: number;
}

/** VmRSS of `pid` and of it plus its descendants. */
function rssNow(pid: number): { main: number; tree: number } {
  return { main: statusKiB(pid, 'VmRSS'), tree: memoryOf(processTree(pid), { pss: false }).rssKiB };
}

const median = (xs: number[]) => stats(xs)?.median ?? 0;

/** Samples the daemon `pid` every `everyMs` while `step` runs; the idle value is taken just before. */
async function sampled<T>(pid: number, everyMs: number, step: () => Promise<T>): Promise<{ result: T; peaks: Peaks }> {
  const idle: Array<{ main: number; tree: number }> = [];
  for (let t = 0; t < IDLE_MS; t += everyMs) {
    idle.push(rssNow(pid));
    await sleep(everyMs);
  }
  /* Resets VmHWM to the current VmRSS (Documentation/filesystems/proc.rst, clear_refs). */
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const peaks: Peaks = {
    idleMain: median(idle.map((s) => s.main)),
    idleTree: median(idle.map((s) => s.tree)),
    peakMain: 0,
    peakTree: 0,
    hwmMain: 0,
    samples: 0,
    maxGapMs: 0,
  };
  let last = now();
  const take = () => {
    const t = now();
    peaks.maxGapMs = Math.max(peaks.maxGapMs, Number(t - last) / 1e6);
    last = t;
    try {
      const s = rssNow(pid);
      peaks.peakMain = Math.max(peaks.peakMain, s.main);
      peaks.peakTree = Math.max(peaks.peakTree, s.tree);
      peaks.samples++;
    } catch {
      /* the daemon is gone: the step fails on its own */
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  try {
    const result = await step();
    take();
    peaks.hwmMain = statusKiB(pid, 'VmHWM');
    return { result, peaks };
  } finally {
    clearInterval(timer);
  }
}

/* ------------------------------------------------------------------------------------------- */
/* the two engines, driven through their CLIs                                                  */

interface EngineDriver {
  readonly engine: Engine;
  /** The daemon process (berthd / lxd). */
  readonly pid: number;
  /** Imports `file` under ALIAS; the fingerprint the CLI printed. */
  importImage(file: string): Promise<{ ms: number; fingerprint: string }>;
  /** Creates INSTANCE from ALIAS (not started). */
  init(): Promise<number>;
  /** Deletes INSTANCE and the image, and checks that none is left. */
  clear(): Promise<void>;
}

function fingerprintIn(engine: Engine, stdout: string): string {
  const m = /fingerprint: ([0-9a-f]{64})/.exec(stdout);
  if (!m) throw new Error(`${engine}: no fingerprint in the import output: ${stdout.trim().slice(0, 500)}`);
  return m[1]!;
}

class BerthDriver implements EngineDriver {
  readonly engine = 'berth' as const;
  constructor(readonly daemon: Daemon) {}

  get pid(): number {
    return this.daemon.pid;
  }

  private async cli(args: string[]): Promise<{ ms: number; stdout: string }> {
    const t0 = now();
    const r = await runBerth(args, { env: this.daemon.env, timeoutMs: STEP_TIMEOUT_MS });
    const ms = msSince(t0);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 1000)}`);
    return { ms, stdout: r.stdout };
  }

  async importImage(file: string) {
    const { ms, stdout } = await this.cli(['image', 'import', file, '--alias', ALIAS]);
    return { ms, fingerprint: fingerprintIn('berth', stdout) };
  }

  async init(): Promise<number> {
    return (await this.cli(['init', ALIAS, INSTANCE])).ms;
  }

  async clear(): Promise<void> {
    const instances = JSON.parse((await this.cli(['list', '--format', 'json'])).stdout) as Array<{ name: string }>;
    for (const i of instances) await this.cli(['delete', i.name]);
    const images = JSON.parse((await this.cli(['image', 'list', '--format', 'json'])).stdout) as Array<{ fingerprint: string }>;
    for (const i of images) await this.cli(['image', 'delete', i.fingerprint]);
    const left = JSON.parse((await this.cli(['image', 'list', '--format', 'json'])).stdout) as unknown[];
    if (left.length !== 0) throw new Error(`berth: ${left.length} images left after delete`);
  }
}

class LxdDriver implements EngineDriver {
  readonly engine = 'lxd' as const;
  constructor(readonly lxd: Lxd) {}

  get pid(): number {
    return this.lxd.pid;
  }

  private async cli(args: string[]): Promise<{ ms: number; stdout: string }> {
    const t0 = now();
    const r = await run('lxc', args, { env: this.lxd.env, timeoutMs: STEP_TIMEOUT_MS });
    const ms = msSince(t0);
    if (r.code !== 0) throw new Error(`lxc ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 1000)}`);
    return { ms, stdout: r.stdout };
  }

  async importImage(file: string) {
    const { ms, stdout } = await this.cli(['image', 'import', file, '--alias', ALIAS]);
    return { ms, fingerprint: fingerprintIn('lxd', stdout) };
  }

  async init(): Promise<number> {
    return (await this.cli(['init', ALIAS, INSTANCE])).ms;
  }

  async clear(): Promise<void> {
    for (const name of (await this.cli(['list', '--format', 'csv', '-c', 'n'])).stdout.split('\n').filter(Boolean)) await this.cli(['delete', '--force', name]);
    for (const fp of (await this.cli(['image', 'list', '--format', 'csv', '-c', 'F'])).stdout.split('\n').filter(Boolean)) await this.cli(['image', 'delete', fp]);
    const left = (await this.cli(['image', 'list', '--format', 'csv', '-c', 'F'])).stdout.split('\n').filter(Boolean);
    if (left.length !== 0) throw new Error(`lxd: ${left.length} images left after delete`);
  }
}

/* ------------------------------------------------------------------------------------------- */
/* report                                                                                      */

/** Metric → unit and decimals, in table order (per input). */
const METRICS: Array<[string, string, number]> = [
  ['import', 'ms', 0],
  ['first init', 'ms', 0],
  ['import + first init', 'ms', 0],
  ['daemon RSS idle', 'MiB', 1],
  ['daemon RSS peak, import', 'MiB', 1],
  ['daemon RSS peak Δ, import', 'MiB', 1],
  ['daemon VmHWM Δ, import', 'MiB', 1],
  ['daemon+children RSS peak, import', 'MiB', 1],
  ['daemon+children RSS peak Δ, import', 'MiB', 1],
  ['daemon RSS peak Δ, first init', 'MiB', 1],
  ['daemon VmHWM Δ, first init', 'MiB', 1],
  ['daemon+children RSS peak Δ, first init', 'MiB', 1],
];

/** Samples by input label, metric, then engine. */
type Samples = Map<string, Map<string, Record<Engine, number[]>>>;

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/* ------------------------------------------------------------------------------------------- */

function parseArgs(argv: string[]): Options {
  const args = benchArgs(
    argv,
    'usage: node dist/bench/images.js [--rounds N] [--pad-mib N,N,...] [--sample-ms N] [--lxd-dir DIR] [--json FILE]',
    ['rounds', 'pad-mib', 'sample-ms', 'lxd-dir', 'json'],
  );
  const pad = args.value('pad-mib');
  const json = args.value('json');
  return {
    rounds: integerArg('rounds', args.value('rounds'), 1, 3),
    padMiB: pad === undefined ? [500, 1500] : pad === '' ? [] : pad.split(',').map((x) => integerArg('pad-mib', x, 1, 0)),
    sampleMs: integerArg('sample-ms', args.value('sample-ms'), 5, 20),
    lxdDir: path.resolve(args.value('lxd-dir') ?? '/var/lib/berth-bench-images-lxd'),
    json: json === undefined ? null : path.resolve(json),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root');
  const samples: Samples = new Map();
  const add = (input: string, metric: string, engine: Engine, value: number) => {
    if (!samples.has(input)) samples.set(input, new Map(METRICS.map(([m]) => [m, { berth: [], lxd: [] }])));
    samples.get(input)!.get(metric)![engine].push(value);
  };
  const steps: Array<{ round: number; input: string; engine: Engine; importMs: number; initMs: number; import: Peaks; init: Peaks }> = [];
  const inputs: Input[] = [];
  const notes: string[] = [];
  const session = await LxdBenchSession.open('berth-bench-images-', log);
  const { work, versions, cleanupProblems, loadBefore } = session;
  const check = () => session.check();
  let daemon: Daemon | null = null;
  let lxd: Lxd | null = null;
  try {

    const tarball = await ensureDebianImage();
    const files: Array<[string, string]> = [['debian-12', tarball]];
    for (const mib of options.padMiB) {
      check();
      files.push([`debian-12 +${mib} MiB`, await paddedImage(tarball, work, mib)]);
    }
    const gz = path.join(work, 'debian-12.tar.gz');
    await pipeline(createReadStream(tarball), createGzip({ level: 1 }), createWriteStream(gz));
    files.push(['debian-12.tar.gz (gzip -1)', gz]);
    for (const [label, file] of files) {
      const input: Input = { label, file, bytes: statSync(file).size, fingerprint: await sha256(file), reported: { berth: [], lxd: [] } };
      inputs.push(input);
      log(`input ${label}: ${path.basename(file)}, ${(input.bytes / MiB).toFixed(1)} MiB, sha256 ${input.fingerprint}`);
    }

    await mkdir(path.join(work, 'berth'), { mode: 0o711 });
    daemon = await startDaemon({
      dir: path.join(work, 'berth'),
      ownsDir: true,
      env: { BERTH_TEST_HOOKS: 'false', BERTH_LOG_LEVEL: 'warn', BERTH_STORAGE_DRIVER: 'btrfs', BERTH_STORAGE_SIZE: String(16 * 2 ** 30) },
    });
    lxd = await Lxd.start({ dir: options.lxdDir, poolSize: '16GiB', log });
    const drivers: Record<Engine, EngineDriver> = { berth: new BerthDriver(daemon), lxd: new LxdDriver(lxd) };
    log(`berthd pid ${daemon.pid} on ${daemon.dir}; lxd pid ${lxd.pid} on ${lxd.dir}`);

    /* One untimed import + init + delete in each daemon first: first-use costs (the pool's first
       subvolumes, code paths run once) are not charged to the first measured input. */
    for (const engine of ENGINES) {
      check();
      const d = drivers[engine];
      await d.importImage(tarball);
      await d.init();
      await d.clear();
    }
    await must('sync', []);
    log('warm-up import + init done in both');

    const bare: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = now();
      await runBerth(['--version'], { env: daemon.env });
      bare.push(msSince(t0));
    }
    notes.push(`Berth's CLI is a Node program: \`berth --version\` alone takes ${stats(bare)!.median.toFixed(0)} ms (median of 5), included in each Berth CLI time; lxc is a Go binary.`);

    try {
      measuring: for (let round = 1; round <= options.rounds; round++) {
        const order = round % 2 ? ENGINES : [...ENGINES].reverse();
        for (const input of inputs) {
          for (const engine of order) {
            /* Interrupted: stop measuring, clean up, and report what was measured. */
            if (session.interrupted) break measuring;
            const d = drivers[engine];
            const imp = await sampled(d.pid, options.sampleMs, () => d.importImage(input.file));
            input.reported[engine].push(imp.result.fingerprint);
            if (imp.result.fingerprint !== input.fingerprint) {
              throw new Error(`${engine} reported fingerprint ${imp.result.fingerprint} for ${input.label}, its sha256 is ${input.fingerprint}`);
            }
            const init = await sampled(d.pid, options.sampleMs, () => d.init());
            await d.clear();
            await must('sync', []);
            const mib = (kib: number) => kib / 1024;
            const i = imp.peaks;
            const c = init.peaks;
            add(input.label, 'import', engine, imp.result.ms);
            add(input.label, 'first init', engine, init.result);
            add(input.label, 'import + first init', engine, imp.result.ms + init.result);
            add(input.label, 'daemon RSS idle', engine, mib(i.idleMain));
            add(input.label, 'daemon RSS peak, import', engine, mib(i.peakMain));
            add(input.label, 'daemon RSS peak Δ, import', engine, mib(i.peakMain - i.idleMain));
            add(input.label, 'daemon VmHWM Δ, import', engine, mib(i.hwmMain - i.idleMain));
            add(input.label, 'daemon+children RSS peak, import', engine, mib(i.peakTree));
            add(input.label, 'daemon+children RSS peak Δ, import', engine, mib(i.peakTree - i.idleTree));
            add(input.label, 'daemon RSS peak Δ, first init', engine, mib(c.peakMain - c.idleMain));
            add(input.label, 'daemon VmHWM Δ, first init', engine, mib(c.hwmMain - c.idleMain));
            add(input.label, 'daemon+children RSS peak Δ, first init', engine, mib(c.peakTree - c.idleTree));
            steps.push({ round, input: input.label, engine, importMs: imp.result.ms, initMs: init.result, import: i, init: c });
            log(
              `round ${round} ${input.label.padEnd(26)} ${engine.padEnd(5)} import ${imp.result.ms.toFixed(0)} ms, first init ${init.result.toFixed(0)} ms; ` +
                `daemon RSS ${mib(i.idleMain).toFixed(0)} → peak ${mib(i.peakMain).toFixed(0)} MiB (HWM ${mib(i.hwmMain).toFixed(0)}), ` +
                `+children ${mib(i.idleTree).toFixed(0)} → ${mib(i.peakTree).toFixed(0)} MiB; init peak Δ ${mib(c.peakMain - c.idleMain).toFixed(0)} / ${mib(c.peakTree - c.idleTree).toFixed(0)} MiB ` +
                `(${i.samples}+${c.samples} samples, max gap ${Math.max(i.maxGapMs, c.maxGapMs).toFixed(0)} ms)`,
            );
          }
        }
      }
    } catch (error) {
      /* A Ctrl-C reaches lxc, berth and both daemons too: the step under way fails. */
      if (!session.interrupted) throw error;
      notes.push(`interrupted during a step: ${(error as Error).message.split('\n')[0]}`);
    }
  } finally {
    log('cleaning up');
    session.daemon = daemon;
    session.lxd = lxd;
    await session.close();
  }

  /* report */
  const rows: string[][] = [['input', 'metric', 'Berth median [min–max]', 'LXD median [min–max]', 'Berth/LXD']];
  const summary: Record<string, Record<string, { unit: string; berth: Stats | null; lxd: Stats | null; ratio: number | null }>> = {};
  for (const input of inputs) {
    const perInput = samples.get(input.label);
    if (!perInput) continue;
    summary[input.label] = {};
    let first = true;
    for (const [metric, unit, digits] of METRICS) {
      const s = perInput.get(metric)!;
      const b = stats(s.berth);
      const l = stats(s.lxd);
      /* A ratio of two deltas near zero says nothing: only where both are clearly positive. */
      const ratio = b && l && b.median > 0 && l.median >= (unit === 'MiB' ? 1 : 0.001) ? b.median / l.median : null;
      summary[input.label]![metric] = { unit, berth: b, lxd: l, ratio };
      rows.push([first ? `${input.label} (${(input.bytes / MiB).toFixed(0)} MiB)` : '', `${metric}, ${unit}`, fmt(b, digits), fmt(l, digits), ratio === null ? '—' : ratio.toFixed(2)]);
      first = false;
    }
  }
  if (session.interrupted) notes.push(`interrupted: ${steps.length} of ${options.rounds * inputs.length * ENGINES.length} steps measured.`);
  const rounds = Math.floor(steps.length / (inputs.length * ENGINES.length));
  console.log('');
  console.log(`Image import: Berth ${versions.berth} vs LXD ${versions.lxd}, both on a btrfs loop pool, ${rounds} rounds (kernel ${versions.kernel}, ${os.availableParallelism()} CPUs)`);
  console.log(table(rows));

  console.log('');
  console.log('Fingerprints (sha256 of the file; what berth and lxc printed on import):');
  for (const input of inputs) {
    const same = (xs: string[]) => xs.length > 0 && xs.every((x) => x === input.fingerprint);
    console.log(`  ${input.label.padEnd(28)} ${input.fingerprint}  berth ${same(input.reported.berth) ? 'equal' : input.reported.berth.join(',') || '—'}, lxd ${same(input.reported.lxd) ? 'equal' : input.reported.lxd.join(',') || '—'}`);
  }

  const uncompressed = inputs.filter((i) => i.file.endsWith('.tar') && i.reported.berth.length > 0 && i.reported.lxd.length > 0);
  if (uncompressed.length > 1) {
    console.log('');
    console.log('Peak memory during import, by input size (medians, MiB):');
    for (const metric of ['daemon RSS peak, import', 'daemon RSS peak Δ, import', 'daemon VmHWM Δ, import', 'daemon+children RSS peak, import', 'daemon+children RSS peak Δ, import', 'daemon+children RSS peak Δ, first init']) {
      for (const engine of ENGINES) {
        const values = uncompressed.map((i) => summary[i.label]?.[metric]?.[engine]?.median ?? NaN);
        const growth = values[values.length - 1]! - values[0]!;
        console.log(
          `  ${metric.padEnd(40)} ${engine.padEnd(5)} ${uncompressed.map((i, k) => `${i.label.replace('debian-12', '').trim() || '+0'}: ${values[k]!.toFixed(1)}`).join(', ')}` +
            `  (largest − smallest input: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB for +${((uncompressed[uncompressed.length - 1]!.bytes - uncompressed[0]!.bytes) / MiB).toFixed(0)} MiB of image)`,
        );
      }
    }
  }

  const maxGap = Math.max(0, ...steps.flatMap((s) => [s.import.maxGapMs, s.init.maxGapMs]));
  notes.push(
    'import: wall time of `berth image import FILE --alias A` / `lxc image import FILE --alias A` until the CLI returns. Berth: upload, hash, store the file, then the import operation that unpacks the rootfs into a btrfs subvolume (streamed: decompression, tar parsing and berth-unpack writing). LXD: upload, hash, store the file, read its metadata; it does not unpack at import.',
  );
  notes.push('first init: `berth init A X` / `lxc init A X` (not started). Berth snapshots the subvolume unpacked at import; LXD unpacks the image into a volume of its pool on this first use, then snapshots it. Neither includes a first start. import + first init is the sum: file to a usable instance.');
  notes.push(
    `memory: VmRSS sampled every ${options.sampleMs} ms (longest gap seen ${maxGap.toFixed(0)} ms). "daemon" is the berthd / lxd process alone; "daemon+children" adds all its descendants (berthd: Postgres and its workers, berth-unpack, decompressors; lxd: what it forks) and counts pages shared between them once per process. Δ is the peak minus the median of 0.5 s of samples just before the step; VmHWM Δ is the kernel's own peak of the daemon (reset by clear_refs before the step) minus that idle value.`,
  );
  notes.push("berthd's idle RSS moves between steps (V8 frees the previous step's heap lazily), so one step's Δ is small when it starts high; the absolute peak is the steadier figure for comparing input sizes.");
  notes.push('Each step is followed, untimed, by deleting the instance and the image and a sync. The input files are in the page cache for both (hashed beforehand). Ratios of memory deltas are left out (—) where LXD\'s is below 1 MiB.');
  console.log('');
  for (const note of notes) console.log(`  - ${note}`);
  const loadAfter = os.loadavg();
  console.log(`  load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  for (const problem of cleanupProblems) console.log(`  cleanup: ${problem}`);
  if (existsSync(options.lxdDir)) console.log(`  cleanup: ${options.lxdDir} is still there`);
  if (existsSync(work)) console.log(`  cleanup: ${work} is still there`);

  if (options.json) {
    const report = {
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date().toISOString(),
      host: { kernel: os.release(), cpus: os.availableParallelism(), memoryBytes: os.totalmem(), loadBefore, loadAfter },
      versions,
      options,
      inputs: inputs.map(({ label, file, bytes, fingerprint, reported }) => ({ label, file: path.basename(file), bytes, fingerprint, reported })),
      summary,
      samples: Object.fromEntries([...samples].map(([input, m]) => [input, Object.fromEntries(m)])),
      steps,
      notes,
      cleanupProblems,
    };
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`JSON written to ${options.json}`);
  }
  if (session.interrupted) process.exitCode = 130;
}

main().catch((error: Error) => {
  console.error(`bench/images: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
