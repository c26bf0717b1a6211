import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { releaseStorage, startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';

const exec = promisify(execFile);

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Images cross between Berth and a real LXD 5.0.2 (Debian's `lxd`, its own daemon on a private
 * LXD_DIR with a dir pool and no network), in both directions, with the fingerprints each computes.
 */
describe('images: compatible with LXD 5.0.2 both ways', () => {
  let work: string;
  let lxdDir: string;
  let lxd: ChildProcess;
  let d: Daemon;
  /** lxc with its stdin closed: `lxc launch` reads instance YAML from a stdin that is not a terminal. */
  const lxcRun = (...args: string[]) => {
    const run = exec('lxc', args, { env: { PATH: process.env.PATH, HOME: lxdDir, LXD_DIR: lxdDir }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    run.child.stdin?.end();
    return run;
  };
  const lxc = async (...args: string[]) => (await lxcRun(...args)).stdout;
  const lxdFingerprint = async (alias: string) => JSON.parse(await lxc('query', `/1.0/images/aliases/${alias}`)).target as string;
  const waitFor = async (operation: string) => (await d.api().get(`${operation}/wait?timeout=300`).expect(200)).body.metadata as { status: string; err: string; metadata: { fingerprint: string } };

  /** Streams a file to berthd as a raw image upload; resolves with the finished operation. */
  const importIntoBerth = (path: string) =>
    new Promise<{ status: number; operation: string }>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: '/1.0/images', headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, operation: (JSON.parse(text) as { operation: string }).operation }));
      });
      req.on('error', reject);
      createReadStream(path).pipe(req);
    });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-lxd-compat-'));
    // LXD's unprivileged containers must traverse down to their rootfs under LXD_DIR.
    await chmod(work, 0o711);
    lxdDir = join(work, 'lxd');
    await mkdir(lxdDir, { mode: 0o711 });
    lxd = spawn('lxd', ['--group', 'root', '--logfile', join(work, 'lxd.log')], { env: { PATH: process.env.PATH, LXD_DIR: lxdDir }, stdio: 'ignore' });
    await exec('lxd', ['waitready', '--timeout', '120'], { env: { PATH: process.env.PATH, LXD_DIR: lxdDir } });
    await lxc('storage', 'create', 'pool', 'dir');
    await lxc('profile', 'device', 'add', 'default', 'root', 'disk', 'path=/', 'pool=pool');
    d = await startDaemon();
  });
  after(async () => {
    for (const name of ['from-berth']) await lxc('delete', '--force', name).catch(() => undefined);
    await exec('lxd', ['shutdown', '--timeout', '60'], { env: { PATH: process.env.PATH, LXD_DIR: lxdDir } }).catch(() => undefined);
    if (lxd.exitCode === null && lxd.signalCode === null) {
      lxd.kill('SIGKILL');
      await new Promise((r) => lxd.once('exit', r));
    }
    await releaseStorage(work);
    await rm(work, { recursive: true, force: true });
    await d.destroy();
  });

  let berthFingerprint: string;

  it('an image built by Berth and exported by berthd imports into LXD with the same fingerprint, and boots there to running', async () => {
    const built = await ensureDebianImage();
    const res = await importIntoBerth(built);
    assert.equal(res.status, 202);
    const op = await waitFor(res.operation);
    assert.equal(op.status, 'Success', op.err);
    berthFingerprint = op.metadata.fingerprint;
    assert.equal(berthFingerprint, await sha256File(built));

    const exported = join(work, 'exported.tar');
    await new Promise<void>((resolve, reject) => {
      request({ socketPath: d.socket, path: `/1.0/images/${berthFingerprint}/export` }, (r) => {
        assert.equal(r.statusCode, 200);
        pipeline(r, createWriteStream(exported)).then(resolve, reject);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(await sha256File(exported), berthFingerprint);

    // lxc clears its progress line with a carriage return before the result.
    assert.equal((await lxc('image', 'import', exported, '--alias', 'berth/debian-12')).trim(), `Image imported with fingerprint: ${berthFingerprint}`);
    assert.equal(await lxdFingerprint('berth/debian-12'), berthFingerprint);
    await lxc('launch', 'berth/debian-12', 'from-berth');
    // Right after the launch systemd's bus may not answer yet (empty output); --wait then waits
    // out `starting`. It exits non-zero unless `running`: keep its output either way.
    let state = '';
    for (let attempt = 0; attempt < 120 && state === ''; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1000));
      state = (await lxcRun('exec', 'from-berth', '--', 'systemctl', 'is-system-running', '--wait').catch((e: { stdout: string }) => e)).stdout.trim();
    }
    assert.equal(state, 'running');
    assert.equal((await lxc('exec', 'from-berth', '--', 'cat', '/etc/hostname')).trim(), 'from-berth');
  });

  it('an image LXD made (lxc publish, then lxc image export) imports into Berth with the fingerprint LXD computed', async () => {
    await lxc('publish', 'from-berth', '--force', '--alias', 'lxd/published');
    const fingerprint = await lxdFingerprint('lxd/published');
    assert.notEqual(fingerprint, berthFingerprint);
    await lxc('image', 'export', 'lxd/published', join(work, 'lxd-published'));
    const files = (await readdir(work)).filter((f) => f.startsWith('lxd-published'));
    assert.equal(files.length, 1, `lxc image export wrote ${files.join(', ')}`);
    const res = await importIntoBerth(join(work, files[0]));
    assert.equal(res.status, 202);
    const op = await waitFor(res.operation);
    assert.equal(op.status, 'Success', op.err);
    assert.equal(op.metadata.fingerprint, fingerprint);
    const image = (await d.api().get(`/1.0/images/${fingerprint}`).expect(200)).body.metadata;
    assert.equal(image.architecture, 'x86_64');
  });

  it('a split image (metadata tarball + rootfs tarball) gets the same fingerprint in LXD and in Berth', async () => {
    const unpacked = join(work, 'unpacked');
    await mkdir(unpacked);
    await exec('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xf', await ensureDebianImage(), '-C', unpacked]);
    const metadata = join(work, 'meta.tar.xz');
    const rootfs = join(work, 'rootfs.tar.gz');
    await exec('tar', ['--numeric-owner', '-cJf', metadata, '-C', unpacked, 'metadata.yaml', 'templates']);
    await exec('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-czf', rootfs, '-C', join(unpacked, 'rootfs'), '.']);
    await rm(unpacked, { recursive: true });

    const out = await lxc('image', 'import', metadata, rootfs, '--alias', 'lxd/split');
    const fingerprint = await lxdFingerprint('lxd/split');
    assert.equal(out.trim(), `Image imported with fingerprint: ${fingerprint}`);
    const res = await d.api().post('/1.0/images').attach('metadata', metadata).attach('rootfs', rootfs);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await waitFor(res.body.operation);
    assert.equal(op.status, 'Success', op.err);
    assert.equal(op.metadata.fingerprint, fingerprint);
    assert.ok(existsSync(join(d.dir, 'storage', 'default', 'images', fingerprint, 'rootfs', 'usr', 'bin', 'ping')));
  });
});
