/**
 * Instances benchmark: berthd against LXD 5.0.2 (Debian's package), the same debian-12 image in
 * both, each on a btrfs loop pool.
 *
 *   npm run bench        (= npm run build && node dist/bench/instances.js)
 *   node dist/bench/instances.js [--rounds N] [--exec-reps N] [--list-reps N] [--many N]
 *       [--pad-mib N] [--lxd-dir DIR] [--json FILE]
 *
 * Needs root. Installs the `lxd` package if missing (bench/lxd.ts), runs a private `lxd` on
 * --lxd-dir (default /var/lib/berth-bench-lxd) with a btrfs loop pool and no network, and a
 * berthd on a temporary BERTH_DIR (BERTH_STORAGE_DRIVER=btrfs, no default network). Both daemons
 * run for the whole benchmark; everything is deleted at the end (also on SIGINT).
 *
 * Images: the debian-12 tarball `berth image build images/debian-12` makes (test/support/
 * debian-image.ts caches it), imported into both with `berth image import` and `lxc image import`
 * (same fingerprint), and a copy padded with a --pad-mib (500) MiB file of random bytes.
 *
 * Each round runs Berth and LXD one after the other, alternating which goes first:
 *  - launch: Berth `berth launch debian/12 X` until the instance is Ready (systemd's READY=1,
 *    what `berth launch` waits for; checked through the API, then confirmed with
 *    `berth exec X -- systemctl is-system-running`); LXD `lxc launch debian/12 X`, then
 *    `lxc exec X -- systemctl is-system-running` polled until it prints running (LXD has no
 *    readiness signal; the poll adds up to one `lxc exec` of latency, reported as exec below).
 *  - stop: `berth stop X` / `lxc stop X` (clean shutdown of the guest's systemd) until it returns.
 *  - start: as launch, without the create.
 *  - exec: `berth exec X -- true` / `lxc exec X -- true`, --exec-reps times per round, wall time
 *    of the CLI process (Berth's CLI is Node; its bare start-up is measured as a reference).
 *  - create from a cached image: `berth init` / `lxc init` of debian/12 and of the padded image
 *    (each image used once before, so both daemons have it unpacked in their pool).
 * Then, once: 10 instances are launched in each; GET /1.0/instances?recursion=1 is timed
 * --list-reps times; daemon and per-container memory are read; --many (100) instances in all are
 * reached by creating stopped ones (their creation times are recorded too) and the listing is
 * timed again.
 *
 * Memory: VmRSS (and PSS, which shares shared pages fairly) of berthd plus all its Postgres
 * processes, against lxd's own process; per container, Berth's berth-monitor against LXD's
 * `[lxc monitor]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { runBerth } from '../test/support/cli.js';
import { startDaemon, type Daemon } from '../test/support/daemon.js';
import { ensureDebianImage } from '../test/support/debian-image.js';
import { benchArgs, fmt, integerArg, LxdBenchSession, memoryOf, paddedImage, parentOf, processTree, stats, table, type Memory, type Stats } from './common.js';
import { Lxd, run, sleep } from './lxd.js';

type Engine = 'berth' | 'lxd';
const ENGINES: Engine[] = ['berth', 'lxd'];
const POLL_MS = 50;
const READY_TIMEOUT_MS = 120_000;

interface Options {
  rounds: number;
  execReps: number;
  listReps: number;
  many: number;
  padMiB: number;
  lxdDir: string;
  json: string | null;
}

/** Samples by metric, then engine. */
type Samples = Map<string, Record<Engine, number[]>>;

const now = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(now() - t0) / 1e6;
const startedAt = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)}s] ${line}`);

/* ------------------------------------------------------------------------------------------- */
/* /proc                                                                                       */

function comm(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

/** berth-monitor of a running instance: the nearest ancestor of its init with that name. */
function berthMonitorPid(initPid: number): number {
  for (let pid = initPid, i = 0; pid > 1 && i < 10; i++) {
    pid = parentOf(pid);
    if (comm(pid) === 'berth-monitor') return pid;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* HTTP on a Unix socket                                                                       */

function getJson(socket: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socket, path: urlPath, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/* ------------------------------------------------------------------------------------------- */
/* the two engines, driven through their CLIs                                                  */

interface EngineDriver {
  readonly engine: Engine;
  readonly socket: string;
  /** Create and start; resolves when the guest is up (Ready / running). */
  launch(image: string, name: string): Promise<number>;
  start(name: string): Promise<number>;
  stop(name: string): Promise<number>;
  exec(name: string, argv: string[]): Promise<{ ms: number; stdout: string }>;
  create(image: string, name: string): Promise<number>;
  remove(name: string): Promise<void>;
  /** Resident memory of the daemon (with its database, for Berth). */
  daemonMemory(): Memory;
  /** The per-container supervisor's memory. */
  monitorMemory(name: string): Promise<Memory & { pid: number }>;
}

class BerthDriver implements EngineDriver {
  readonly engine = 'berth' as const;
  readonly socket: string;
  constructor(readonly daemon: Daemon) {
    this.socket = daemon.socket;
  }

  private async cli(args: string[]): Promise<{ ms: number; stdout: string }> {
    const t0 = now();
    const r = await runBerth(args, { env: this.daemon.env, timeoutMs: 300_000 });
    const ms = msSince(t0);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 1000)}`);
    return { ms, stdout: r.stdout };
  }

  private async state(name: string): Promise<{ status: string; pid: number; boot?: { ready: boolean } | null }> {
    const res = await getJson(this.socket, `/1.0/instances/${name}/state`);
    return JSON.parse(res.body).metadata;
  }

  /** The CLI returns once systemd reported READY=1; the API's boot state confirms it (and is polled in case it does not). */
  private async untilReady(t0: bigint, name: string): Promise<number> {
    for (;;) {
      const { status, boot } = await this.state(name);
      if (status === 'Running' && boot?.ready) return msSince(t0);
      if (status === 'Stopped' || status === 'Error') throw new Error(`${name} is ${status}`);
      if (msSince(t0) > READY_TIMEOUT_MS) throw new Error(`${name} not Ready after ${READY_TIMEOUT_MS} ms (${status})`);
      await sleep(POLL_MS);
    }
  }

  async launch(image: string, name: string): Promise<number> {
    const t0 = now();
    await this.cli(['launch', image, name]);
    return this.untilReady(t0, name);
  }

  async start(name: string): Promise<number> {
    const t0 = now();
    await this.cli(['start', name]);
    return this.untilReady(t0, name);
  }

  async stop(name: string): Promise<number> {
    return (await this.cli(['stop', name])).ms;
  }

  exec(name: string, argv: string[]) {
    return this.cli(['exec', name, '--', ...argv]);
  }

  async create(image: string, name: string): Promise<number> {
    return (await this.cli(['init', image, name])).ms;
  }

  async remove(name: string): Promise<void> {
    if ((await this.state(name)).status !== 'Stopped') await this.cli(['stop', '--force', name]);
    await this.cli(['delete', name]);
  }

  daemonMemory(): Memory {
    const postmaster = Number(readFileSync(path.join(this.daemon.dir, 'database', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return memoryOf([this.daemon.pid, ...processTree(postmaster)]);
  }

  async monitorMemory(name: string) {
    const pid = berthMonitorPid((await this.state(name)).pid);
    if (!pid) throw new Error(`no berth-monitor found for ${name}`);
    return { pid, ...memoryOf([pid]) };
  }
}

class LxdDriver implements EngineDriver {
  readonly engine = 'lxd' as const;
  readonly socket: string;
  constructor(readonly lxd: Lxd) {
    this.socket = lxd.socket;
  }

  private async cli(args: string[]): Promise<{ ms: number; stdout: string }> {
    const t0 = now();
    const r = await run('lxc', args, { env: this.lxd.env });
    const ms = msSince(t0);
    if (r.code !== 0) throw new Error(`lxc ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 1000)}`);
    return { ms, stdout: r.stdout };
  }

  /** Polls `systemctl is-system-running` until it prints running. */
  private async untilRunning(t0: bigint, name: string): Promise<number> {
    let last = '';
    for (;;) {
      const probe = await run('lxc', ['exec', name, '--', 'systemctl', 'is-system-running'], { env: this.lxd.env });
      last = probe.stdout.trim() || probe.stderr.trim();
      if (last === 'running') return msSince(t0);
      if (last === 'degraded') throw new Error(`${name} is degraded`);
      if (/Instance is not running/.test(last)) {
        const info = await run('lxc', ['info', '--show-log', name], { env: this.lxd.env });
        throw new Error(`${name} stopped while booting: ${info.stdout.slice(-3000)}`);
      }
      if (msSince(t0) > READY_TIMEOUT_MS) throw new Error(`${name} not running after ${READY_TIMEOUT_MS} ms (${last || 'no answer'})`);
      await sleep(POLL_MS);
    }
  }

  async launch(image: string, name: string): Promise<number> {
    const t0 = now();
    await this.cli(['launch', image, name]);
    return this.untilRunning(t0, name);
  }

  async start(name: string): Promise<number> {
    const t0 = now();
    await this.cli(['start', name]);
    return this.untilRunning(t0, name);
  }

  async stop(name: string): Promise<number> {
    return (await this.cli(['stop', name])).ms;
  }

  exec(name: string, argv: string[]) {
    return this.cli(['exec', name, '--', ...argv]);
  }

  async create(image: string, name: string): Promise<number> {
    return (await this.cli(['init', image, name])).ms;
  }

  async remove(name: string): Promise<void> {
    await this.cli(['delete', '--force', name]);
  }

  daemonMemory(): Memory {
    return memoryOf([this.lxd.pid]);
  }

  async monitorMemory(name: string) {
    const pid = this.lxd.monitorPid(name);
    if (!pid) throw new Error(`no [lxc monitor] found for ${name}`);
    return { pid, ...memoryOf([pid]) };
  }
}

/* ------------------------------------------------------------------------------------------- */
/* report                                                                                      */

/** Metric → unit and decimals, in table order. */
const METRICS: Array<[string, string, number]> = [
  ['launch to Ready / running', 'ms', 0],
  ['start to Ready / running', 'ms', 0],
  ['stop', 'ms', 0],
  ['exec -- true (CLI)', 'ms', 0],
  ['create, cached debian-12', 'ms', 0],
  ['create, cached debian-12 + pad', 'ms', 0],
  ['create (toward the many)', 'ms', 0],
  ['GET instances?recursion=1, 10', 'ms', 1],
  ['GET instances?recursion=1, many', 'ms', 1],
  ['daemon RSS, idle', 'MiB', 1],
  ['daemon PSS, idle', 'MiB', 1],
  ['daemon RSS, 10 running', 'MiB', 1],
  ['daemon RSS, many', 'MiB', 1],
  ['daemon PSS, many', 'MiB', 1],
  ['monitor RSS per container', 'MiB', 2],
  ['monitor PSS per container', 'MiB', 2],
];

/* ------------------------------------------------------------------------------------------- */

function parseArgs(argv: string[]): Options {
  const args = benchArgs(
    argv,
    'usage: node dist/bench/instances.js [--rounds N] [--exec-reps N] [--list-reps N] [--many N] [--pad-mib N] [--lxd-dir DIR] [--json FILE]',
    ['rounds', 'exec-reps', 'list-reps', 'many', 'pad-mib', 'lxd-dir', 'json'],
  );
  const json = args.value('json');
  return {
    rounds: integerArg('rounds', args.value('rounds'), 1, 5),
    execReps: integerArg('exec-reps', args.value('exec-reps'), 1, 10),
    listReps: integerArg('list-reps', args.value('list-reps'), 1, 20),
    many: integerArg('many', args.value('many'), 11, 100),
    padMiB: integerArg('pad-mib', args.value('pad-mib'), 1, 500),
    lxdDir: path.resolve(args.value('lxd-dir') ?? '/var/lib/berth-bench-lxd'),
    json: json === undefined ? null : path.resolve(json),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root');
  const samples: Samples = new Map(METRICS.map(([m]) => [m, { berth: [], lxd: [] }]));
  const add = (metric: string, engine: Engine, value: number) => samples.get(metric)![engine].push(value);
  const notes: string[] = [];
  const session = await LxdBenchSession.open('berth-bench-', log);
  const { work, versions, cleanupProblems, loadBefore } = session;
  const check = () => session.check();
  let daemon: Daemon | null = null;
  let lxd: Lxd | null = null;
  try {

    const tarball = await ensureDebianImage();
    const padded = await paddedImage(tarball, work, options.padMiB);
    log(`images: ${path.basename(tarball)} and a copy padded with ${options.padMiB} MiB`);

    await mkdir(path.join(work, 'berth'), { mode: 0o711 });
    daemon = await startDaemon({
      dir: path.join(work, 'berth'),
      ownsDir: true,
      env: { BERTH_TEST_HOOKS: 'false', BERTH_LOG_LEVEL: 'warn', BERTH_STORAGE_DRIVER: 'btrfs', BERTH_STORAGE_SIZE: String(24 * 2 ** 30) },
    });
    lxd = await Lxd.start({ dir: options.lxdDir, poolSize: '24GiB', log });
    const drivers: Record<Engine, EngineDriver> = { berth: new BerthDriver(daemon), lxd: new LxdDriver(lxd) };
    log(`berthd pid ${daemon.pid} on ${daemon.dir}; lxd pid ${lxd.pid} on ${lxd.dir}`);

    for (const [file, alias] of [
      [tarball, 'debian/12'],
      [padded, 'debian/12-pad'],
    ] as const) {
      const b = await runBerth(['image', 'import', file, '--alias', alias], { env: daemon.env, timeoutMs: 600_000 });
      if (b.code !== 0) throw new Error(`berth image import ${file}: ${b.stderr}`);
      await lxd.lxc('image', 'import', file, '--alias', alias);
    }
    /* Both daemons unpack an image into their pool on its first use: do it once, untimed. */
    for (const engine of ENGINES) {
      for (const alias of ['debian/12', 'debian/12-pad']) {
        await drivers[engine].create(alias, 'warmup');
        await drivers[engine].remove('warmup');
      }
    }
    const idle = { berth: drivers.berth.daemonMemory(), lxd: drivers.lxd.daemonMemory() };
    for (const engine of ENGINES) {
      add('daemon RSS, idle', engine, idle[engine].rssKiB / 1024);
      add('daemon PSS, idle', engine, idle[engine].pssKiB / 1024);
    }
    log('images imported and unpacked in both');

    const bare = [];
    for (let i = 0; i < 5; i++) {
      const t0 = now();
      await runBerth(['--version'], { env: daemon.env });
      bare.push(msSince(t0));
    }
    const bareStats = stats(bare)!;
    notes.push(`Berth's CLI is a Node program: \`berth --version\` alone takes ${bareStats.median.toFixed(0)} ms (median of 5), included in each Berth CLI figure; lxc is a Go binary.`);

    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 ? ENGINES : [...ENGINES].reverse();
      for (const engine of order) {
        check();
        const d = drivers[engine];
        const name = `bench-${round}`;
        const launch = await d.launch('debian/12', name);
        add('launch to Ready / running', engine, launch);
        const state = (await d.exec(name, ['systemctl', 'is-system-running']).catch((e: Error) => ({ stdout: e.message }))).stdout.trim();
        if (state !== 'running') notes.push(`round ${round} ${engine}: is-system-running after launch: ${state}`);
        const execs: number[] = [];
        for (let i = 0; i < options.execReps; i++) execs.push((await d.exec(name, ['true'])).ms);
        samples.get('exec -- true (CLI)')![engine].push(...execs);
        const monitor = await d.monitorMemory(name);
        add('monitor RSS per container', engine, monitor.rssKiB / 1024);
        add('monitor PSS per container', engine, monitor.pssKiB / 1024);
        const stop1 = await d.stop(name);
        const start = await d.start(name);
        const stop2 = await d.stop(name);
        add('stop', engine, stop1);
        add('stop', engine, stop2);
        add('start to Ready / running', engine, start);
        await d.remove(name);
        const createSmall = await d.create('debian/12', `${name}-c`);
        await d.remove(`${name}-c`);
        const createPad = await d.create('debian/12-pad', `${name}-p`);
        await d.remove(`${name}-p`);
        add('create, cached debian-12', engine, createSmall);
        add('create, cached debian-12 + pad', engine, createPad);
        log(
          `round ${round} ${engine.padEnd(5)} launch ${launch.toFixed(0)} ms, start ${start.toFixed(0)}, stop ${stop1.toFixed(0)}/${stop2.toFixed(0)}, ` +
            `exec ${stats(execs)!.median.toFixed(0)}, create ${createSmall.toFixed(0)} / padded ${createPad.toFixed(0)}, monitor ${(monitor.rssKiB / 1024).toFixed(1)} MiB`,
        );
      }
    }

    /* Listing: 10 running, then `many` in all (the others created, not started). */
    const listing = async (engine: Engine, metric: string, expected: number) => {
      const d = drivers[engine];
      const first = await getJson(d.socket, '/1.0/instances?recursion=1');
      const count = (JSON.parse(first.body).metadata as unknown[]).length;
      if (first.status !== 200 || count !== expected) throw new Error(`${engine}: GET /1.0/instances?recursion=1 gave ${first.status} with ${count} instances, expected ${expected}`);
      for (let i = 0; i < options.listReps; i++) {
        const t0 = now();
        await getJson(d.socket, '/1.0/instances?recursion=1');
        add(metric, engine, msSince(t0));
      }
    };
    for (const engine of ENGINES) {
      check();
      for (let i = 0; i < 10; i++) await drivers[engine].launch('debian/12', `run-${i}`);
      for (let i = 0; i < 10; i++) {
        const m = await drivers[engine].monitorMemory(`run-${i}`);
        add('monitor RSS per container', engine, m.rssKiB / 1024);
        add('monitor PSS per container', engine, m.pssKiB / 1024);
      }
      add('daemon RSS, 10 running', engine, drivers[engine].daemonMemory().rssKiB / 1024);
      log(`${engine}: 10 running`);
    }
    for (const engine of ENGINES) await listing(engine, 'GET instances?recursion=1, 10', 10);
    for (const engine of ENGINES) {
      for (let i = 10; i < options.many; i++) {
        check();
        add('create (toward the many)', engine, await drivers[engine].create('debian/12', `idle-${i}`));
      }
      const mem = drivers[engine].daemonMemory();
      add('daemon RSS, many', engine, mem.rssKiB / 1024);
      add('daemon PSS, many', engine, mem.pssKiB / 1024);
      log(`${engine}: ${options.many} instances`);
    }
    for (const engine of ENGINES) await listing(engine, 'GET instances?recursion=1, many', options.many);
    notes.push(`"many" is ${options.many} instances: 10 running and ${options.many - 10} created, not started.`);
    notes.push('LXD has no readiness signal: its launch/start time is lxc launch/start plus polling `lxc exec -- systemctl is-system-running` every 50 ms until `running`, so it includes up to one lxc exec of latency; Berth\'s is until systemd\'s READY=1 (state Ready), what `berth launch` waits for.');
  } finally {
    log('cleaning up');
    session.daemon = daemon;
    session.lxd = lxd;
    await session.close();
  }

  /* report */
  const rows: string[][] = [['metric', 'unit', 'Berth median [min–max]', 'LXD median [min–max]', 'Berth/LXD']];
  const summary: Record<string, { unit: string; berth: Stats | null; lxd: Stats | null; ratio: number | null }> = {};
  for (const [metric, unit, digits] of METRICS) {
    const s = samples.get(metric)!;
    const b = stats(s.berth);
    const l = stats(s.lxd);
    const ratio = b && l && l.median > 0 ? b.median / l.median : null;
    summary[metric] = { unit, berth: b, lxd: l, ratio };
    rows.push([metric.replace('many', String(options.many)), unit, fmt(b, digits), fmt(l, digits), ratio === null ? '—' : ratio.toFixed(2)]);
  }
  console.log('');
  console.log(`Berth ${versions.berth} vs LXD ${versions.lxd}, both on a btrfs loop pool, debian-12 image, ${options.rounds} rounds (kernel ${versions.kernel}, ${os.availableParallelism()} CPUs)`);
  console.log(table(rows));
  for (const note of notes) console.log(`  - ${note}`);
  const loadAfter = os.loadavg();
  console.log(`  load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  for (const problem of cleanupProblems) console.log(`  cleanup: ${problem}`);
  if (existsSync(options.lxdDir)) console.log(`  cleanup: ${options.lxdDir} is still there`);

  if (options.json) {
    const report = {
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date().toISOString(),
      host: { kernel: os.release(), cpus: os.availableParallelism(), memoryBytes: os.totalmem(), loadBefore, loadAfter },
      versions,
      options,
      pollIntervalMs: POLL_MS,
      summary,
      samples: Object.fromEntries(samples),
      notes,
      cleanupProblems,
    };
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`JSON written to ${options.json}`);
  }
  if (session.interrupted) process.exitCode = 130;
}

main().catch((error: Error) => {
  console.error(`bench/instances: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
