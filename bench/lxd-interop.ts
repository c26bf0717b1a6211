/**
 * Verification: an image exported by berthd imports into LXD 5.0.2 and boots there.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/lxd-interop.js [--lxd-dir DIR]
 *
 * 1. berthd (a temporary BERTH_DIR) imports the debian-12 image (the tarball `berth image build
 *    images/debian-12` makes, cached by test/support/debian-image.ts);
 * 2. GET /1.0/images/<fp>/export streams it back out; its sha256 must be the fingerprint;
 * 3. a private LXD (bench/lxd.ts: Debian's lxd package, installed if missing, its own LXD_DIR,
 *    btrfs loop pool, no network) runs `lxc image import` on the exported file: LXD must compute
 *    the same fingerprint;
 * 4. `lxc launch` it and poll `lxc exec -- systemctl is-system-running` until running or
 *    degraded; for degraded, each failed unit is printed with its status and journal.
 * Also checks that LXD rendered the image's templates (/etc/hostname is the instance's name).
 *
 * Exit status 0 when the guest reaches `running`, 1 otherwise. Everything is removed at the end.
 * Kept out of the test suite: it needs the `lxd` package, which CI does not install.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { runBerth } from '../test/support/cli.js';
import { startDaemon, type Daemon } from '../test/support/daemon.js';
import { ensureDebianImage } from '../test/support/debian-image.js';
import { Lxd, ensureLxd, sleep } from './lxd.js';

const READY_TIMEOUT_MS = 120_000;

const t0 = process.hrtime.bigint();
const elapsed = () => `${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)}s`;
const log = (line: string) => console.log(`[${elapsed()}] ${line}`);

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** GET `urlPath` on a Unix socket into `file`. */
function download(socket: string, urlPath: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socket, path: urlPath }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => reject(new Error(`GET ${urlPath}: ${res.statusCode} ${body.slice(0, 500)}`)));
        return;
      }
      pipeline(res, createWriteStream(file)).then(resolve, reject);
    });
    req.on('error', reject);
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--lxd-dir');
  const lxdDir = at >= 0 && argv[at + 1] ? path.resolve(argv[at + 1]!) : '/var/lib/berth-interop-lxd';
  if (process.getuid?.() !== 0) throw new Error('needs root');

  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-interop-'));
  let daemon: Daemon | null = null;
  let lxd: Lxd | null = null;
  let status = 1;
  try {
    const lxdVersion = await ensureLxd(log);
    log(`LXD ${lxdVersion}`);
    const tarball = await ensureDebianImage();
    daemon = await startDaemon({ env: { BERTH_TEST_HOOKS: 'false', BERTH_LOG_LEVEL: 'warn' } });
    const imported = await runBerth(['image', 'import', tarball, '--alias', 'debian/12'], { env: daemon.env });
    if (imported.code !== 0) throw new Error(`berth image import: ${imported.stderr}`);
    const list = await daemon.api().get('/1.0/images?recursion=1').expect(200);
    const fingerprint = (list.body.metadata as Array<{ fingerprint: string; aliases: Array<{ name: string }> }>).find((i) => i.aliases.some((a) => a.name === 'debian/12'))!.fingerprint;
    log(`berthd imported ${path.basename(tarball)} as ${fingerprint}`);

    const exported = path.join(work, `${fingerprint}.tar`);
    await download(daemon.socket, `/1.0/images/${fingerprint}/export`, exported);
    const exportedSum = await sha256(exported);
    log(`exported through GET /1.0/images/${fingerprint.slice(0, 12)}/export: sha256 ${exportedSum === fingerprint ? 'equals the fingerprint' : `DIFFERS (${exportedSum})`}`);
    if (exportedSum !== fingerprint) return 1;

    lxd = await Lxd.start({ dir: lxdDir, poolSize: '8GiB', log });
    log(`LXD daemon up on ${lxd.socket} (btrfs loop pool, no network)`);
    const lxdImport = await lxd.lxc('image', 'import', exported, '--alias', 'berth/debian-12');
    const lxdFp = lxdImport.match(/fingerprint: ([0-9a-f]{64})/)?.[1];
    log(`lxc image import: ${lxdFp === fingerprint ? 'same fingerprint as Berth' : `fingerprint ${lxdFp ?? '?'} DIFFERS`}`);
    if (lxdFp !== fingerprint) return 1;
    log(`lxc image info: ${(await lxd.lxc('image', 'info', 'berth/debian-12')).split('\n').filter((l) => /^(Architecture|Size|Properties|    (os|release|description)):?/.test(l)).join('; ')}`);

    const launchStart = process.hrtime.bigint();
    await lxd.lxc('launch', 'berth/debian-12', 'interop1');
    log('lxc launch berth/debian-12 interop1: started');
    let state = '';
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      state = (await lxd.tryLxc('exec', 'interop1', '--', 'systemctl', 'is-system-running')).stdout.trim();
      if (state === 'running' || state === 'degraded') break;
      await sleep(100);
    }
    log(`systemctl is-system-running in LXD: ${state || 'no answer'} (${(Number(process.hrtime.bigint() - launchStart) / 1e6).toFixed(0)} ms after lxc launch)`);
    const hostname = (await lxd.lxc('exec', 'interop1', '--', 'cat', '/etc/hostname')).trim();
    log(`/etc/hostname rendered by LXD from the image's template: ${hostname}${hostname === 'interop1' ? '' : ' (expected interop1)'}`);
    const failed = (await lxd.lxc('exec', 'interop1', '--', 'systemctl', '--failed', '--no-legend', '--plain')).trim();
    if (failed) {
      log('failed units:');
      for (const line of failed.split('\n')) {
        const unit = line.trim().split(/\s+/)[0]!;
        console.log(`  ${line.trim()}`);
        const status = await lxd.tryLxc('exec', 'interop1', '--', 'systemctl', 'status', '--no-pager', '--lines=15', unit);
        console.log(status.stdout.replace(/^/gm, '    '));
      }
    } else {
      log('failed units: none');
    }
    const analyze = await lxd.tryLxc('exec', 'interop1', '--', 'systemd-analyze', 'time');
    if (analyze.code === 0) log(`systemd-analyze time in LXD: ${analyze.stdout.trim().split('\n')[0]}`);
    status = state === 'running' && hostname === 'interop1' ? 0 : 1;
    log(status === 0 ? 'OK: the image exported by Berth boots in LXD 5.0.2 to running' : 'FAILED');
  } finally {
    if (lxd) {
      const problems = await lxd.close();
      for (const p of problems) log(`LXD cleanup: ${p}`);
    }
    if (daemon) await daemon.destroy();
    await rm(work, { recursive: true, force: true });
  }
  return status;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`bench/lxd-interop: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  },
);
