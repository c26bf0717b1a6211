import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { queryEmbedded } from '../support/db.js';
import { releaseStorage, startDaemon, type Daemon } from '../support/daemon.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres.js';
import { tinyImage } from '../support/tiny-image.js';

const exec = promisify(execFile);
const MiB = 1024 ** 2;

/**
 * An uncompressed unified image whose rootfs holds `megabytes` of /dev/urandom: nothing a
 * filesystem can compress or deduplicate away.
 */
async function bigImage(dir: string, megabytes: number): Promise<string> {
  const src = join(dir, 'src');
  await mkdir(join(src, 'rootfs', 'data'), { recursive: true });
  await writeFile(join(src, 'metadata.yaml'), 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: too big\n');
  await exec('dd', ['if=/dev/urandom', `of=${join(src, 'rootfs', 'data', 'noise')}`, 'bs=1M', `count=${megabytes}`, 'status=none']);
  const tarball = join(dir, 'big.tar');
  await exec('tar', ['-cf', tarball, '-C', src, 'metadata.yaml', 'rootfs']);
  await rm(src, { recursive: true });
  return tarball;
}

/** POSTs a file to /1.0/images as a raw upload, streamed from disk. */
function uploadFile(socket: string, path: string): Promise<{ status: number; body: { operation?: string; error?: string; error_code?: number; metadata?: unknown } }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: 'POST', path: '/1.0/images', headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never }));
    });
    req.on('error', reject);
    createReadStream(path).pipe(req);
  });
}

async function imageState(d: Daemon, poolImages: string) {
  const list = async (dir: string) => (existsSync(dir) ? (await readdir(dir)).sort() : []);
  return {
    rows: await d.api().get('/1.0/images').expect(200).then((r) => r.body.metadata as string[]),
    files: await list(join(d.dir, 'images')),
    volumes: await list(poolImages),
  };
}

async function waitFor(d: Daemon, operation: string) {
  return (await d.api().get(`${operation}/wait?timeout=120`).expect(200)).body.metadata as { status: string; err: string };
}

describe('images: importing into a pool without enough space', () => {
  let work: string;
  let tarball: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-nospace-'));
    tarball = await bigImage(work, 400);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  describe('a 256 MiB btrfs pool', () => {
    let d: Daemon;
    const poolImages = () => join(d.dir, 'storage', 'default', 'images');

    before(async () => {
      d = await startDaemon({ env: { BERTH_STORAGE_DRIVER: 'btrfs', BERTH_STORAGE_SIZE: String(256 * MiB) } });
    });
    after(async () => {
      await d.destroy();
    });

    it('fails the operation with a no-space error and leaves no volume, no row, no file', async () => {
      const res = await uploadFile(d.socket, tarball);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op = await waitFor(d, res.body.operation!);
      assert.equal(op.status, 'Failure');
      assert.match(op.err, /^Not enough space in storage pool "default" to unpack the image: write\(2\) failed with ENOSPC on "rootfs\/data\/noise"/);
      assert.deepEqual(await imageState(d, poolImages()), { rows: [], files: [], volumes: [] });
      assert.deepEqual(await queryEmbedded(d.dir, 'SELECT fingerprint FROM images'), []);
    });

    it('the pool has its space back: a small image imports afterwards', async () => {
      const tiny = await tinyImage('after-enospc');
      const res = await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').send(tiny.unified);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op = await waitFor(d, res.body.operation);
      assert.equal(op.status, 'Success', op.err);
      assert.deepEqual((await imageState(d, poolImages())).volumes, [tiny.unifiedFingerprint]);
    });
  });

  describe('a dir pool on a tmpfs BERTH_DIR', () => {
    let pg: PostgresServer;
    let dir: string;
    let d: Daemon | undefined;
    const poolImages = () => join(dir, 'storage', 'default', 'images');

    before(async () => {
      // Postgres lives elsewhere: filling the tmpfs must fail the import, not the database.
      pg = await startPostgresServer();
      dir = await mkdtemp(join(tmpdir(), 'berth-tmpfs-'));
    });
    after(async () => {
      await d?.destroy();
      await releaseStorage(dir);
      await rm(dir, { recursive: true, force: true });
      await pg.destroy();
    });

    const daemonOnTmpfs = async (megabytes: number) => {
      await d?.destroy();
      await releaseStorage(dir);
      await exec('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0711`, 'berth-nospace', dir]);
      d = await startDaemon({ dir, ownsDir: false, env: { BERTH_STORAGE_DRIVER: 'dir', DATABASE_URL: pg.url } });
      return d;
    };

    it('an upload that fills the disk is refused with 507 STORAGE.NO_SPACE and leaves no file', async () => {
      const daemon = await daemonOnTmpfs(300);
      const res = await uploadFile(daemon.socket, tarball);
      assert.equal(res.status, 507, JSON.stringify(res.body));
      assert.equal(res.body.error_code, 507);
      assert.match(res.body.error!, /^Not enough space to receive the image upload/);
      assert.deepEqual(await imageState(daemon, poolImages()), { rows: [], files: [], volumes: [] });
    });

    it('an unpack that fills the disk fails the operation and leaves no volume, no row, no file', async () => {
      const daemon = await daemonOnTmpfs(600);
      const res = await uploadFile(daemon.socket, tarball);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op = await waitFor(daemon, res.body.operation!);
      assert.equal(op.status, 'Failure');
      assert.match(op.err, /^Not enough space in storage pool "default" to unpack the image: write\(2\) failed with ENOSPC on "rootfs\/data\/noise"/);
      assert.deepEqual(await imageState(daemon, poolImages()), { rows: [], files: [], volumes: [] });
      const { stdout } = await exec('df', ['--output=used', '-B1', dir]);
      assert.ok(Number(stdout.split('\n')[1]) < 50 * MiB, `the tmpfs still holds ${stdout.split('\n')[1]} bytes`);
      assert.ok((await stat(dir)).isDirectory());
    });
  });
});
