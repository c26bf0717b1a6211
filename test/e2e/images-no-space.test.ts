import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { multipartBody } from '../../apps/berth/src/images-client.js';
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

/**
 * A split image as uncompressed tarballs, `megabytes` of /dev/urandom in one of them: in the rootfs
 * tarball (`data/noise`, a small metadata tarball), or in the metadata tarball (`templates/noise`,
 * a small rootfs tarball).
 */
async function bigSplitImage(dir: string, megabytes: number, noiseIn: 'metadata' | 'rootfs'): Promise<{ metadata: string; rootfs: string }> {
  const src = join(dir, `src-${noiseIn}`);
  await mkdir(join(src, 'metadata', 'templates'), { recursive: true });
  await mkdir(join(src, 'rootfs', 'data'), { recursive: true });
  await writeFile(join(src, 'metadata', 'metadata.yaml'), `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: too big (${noiseIn})\n`);
  await writeFile(join(src, 'rootfs', 'data', 'small'), 'small\n');
  const noise = noiseIn === 'rootfs' ? join(src, 'rootfs', 'data', 'noise') : join(src, 'metadata', 'templates', 'noise');
  await exec('dd', ['if=/dev/urandom', `of=${noise}`, 'bs=1M', `count=${megabytes}`, 'status=none']);
  const metadata = join(dir, `split-${noiseIn}.meta.tar`);
  const rootfs = join(dir, `split-${noiseIn}.rootfs.tar`);
  await exec('tar', ['-cf', metadata, '-C', join(src, 'metadata'), 'metadata.yaml', 'templates']);
  await exec('tar', ['-cf', rootfs, '-C', join(src, 'rootfs'), 'data']);
  await rm(src, { recursive: true });
  return { metadata, rootfs };
}

type UploadResponse = { status: number; body: { operation?: string; error?: string; error_code?: number; metadata?: unknown } };

function post(socket: string, headers: Record<string, string>, body: Readable): Promise<UploadResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: 'POST', path: '/1.0/images', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never }));
    });
    req.on('error', reject);
    body.pipe(req);
  });
}

/** POSTs a file to /1.0/images as a raw upload, streamed from disk. */
function uploadFile(socket: string, path: string): Promise<UploadResponse> {
  return post(socket, { 'Content-Type': 'application/octet-stream' }, createReadStream(path));
}

/**
 * POSTs a split image to /1.0/images as multipart/form-data with a `metadata` and a `rootfs`
 * part, streamed from disk: the body `berth image import meta.tar rootfs.tar` (and lxc) sends.
 */
async function uploadSplit(socket: string, files: { metadata: string; rootfs: string }): Promise<UploadResponse> {
  const file = async (path: string) => ({ path, size: (await stat(path)).size });
  const body = multipartBody([
    { name: 'metadata', file: await file(files.metadata) },
    { name: 'rootfs', file: await file(files.rootfs) },
  ]);
  return post(socket, { 'Content-Type': body.contentType, 'Content-Length': String(body.length) }, body.stream());
}

/**
 * A small split image (multipart) imports and is deleted again: the disk has room again and the
 * daemon still answers. Afterwards images, files and volumes are as they were.
 */
async function importsSmallSplit(d: Daemon, poolImages: string, salt: string): Promise<void> {
  const before = await imageState(d, poolImages);
  const tiny = await tinyImage(salt);
  const fp = tiny.splitFingerprint;
  const res = await d.api().post('/1.0/images').attach('metadata', tiny.metadata, 'meta.tar.gz').attach('rootfs', tiny.rootfs, 'rootfs.tar.gz');
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await waitFor(d, res.body.operation);
  assert.equal(op.status, 'Success', op.err);
  assert.deepEqual(await imageState(d, poolImages), {
    rows: [...before.rows, `/1.0/images/${fp}`].sort(),
    files: [...before.files, fp, `${fp}.rootfs`].sort(),
    volumes: [...before.volumes, fp].sort(),
  });
  assert.ok(existsSync(join(poolImages, fp, 'rootfs', 'etc', 'hostname')));
  const removed = await waitFor(d, (await d.api().delete(`/1.0/images/${fp}`).expect(202)).body.operation);
  assert.equal(removed.status, 'Success', removed.err);
  assert.deepEqual(await imageState(d, poolImages), before);
}

/**
 * Every file and directory under the daemon's directory (the pool is mounted inside it), but the
 * embedded database and the daemon's logs, which change on their own, and $BERTH_DIR/images itself
 * (made at the first upload; what it holds is listed): an import that fails must leave this tree as
 * it found it, with no upload directory, partial file or half-unpacked volume.
 */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (rel === 'database' || /^berthd-\d+\.log$/.test(rel)) continue;
      if (rel !== 'images') out.push(entry.isDirectory() ? `${rel}/` : rel);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return out.sort();
}

async function imageState(d: Daemon, poolImages: string) {
  const list = async (dir: string) => (existsSync(dir) ? (await readdir(dir)).sort() : []);
  return {
    rows: await d.api().get('/1.0/images').expect(200).then((r) => (r.body.metadata as string[]).sort()),
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
  let bigRootfs: { metadata: string; rootfs: string };
  let bigMetadata: { metadata: string; rootfs: string };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-nospace-'));
    tarball = await bigImage(work, 400);
    bigRootfs = await bigSplitImage(work, 400, 'rootfs');
    bigMetadata = await bigSplitImage(work, 400, 'metadata');
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

    it('a split image (multipart metadata + rootfs) whose rootfs does not fit fails the operation the same way and leaves nothing', async () => {
      const state = await imageState(d, poolImages());
      const files = await tree(d.dir);
      const res = await uploadSplit(d.socket, bigRootfs);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op = await waitFor(d, res.body.operation!);
      assert.equal(op.status, 'Failure');
      assert.match(op.err, /^Not enough space in storage pool "default" to unpack the image: write\(2\) failed with ENOSPC on "rootfs\/data\/noise"/);
      assert.deepEqual(await imageState(d, poolImages()), state);
      assert.deepEqual(await queryEmbedded(d.dir, 'SELECT fingerprint FROM images ORDER BY fingerprint'), state.rows.map((url) => ({ fingerprint: url.replace('/1.0/images/', '') })));
      assert.deepEqual(await tree(d.dir), files);
    });

    it('the pool has its space back after the split upload: a small split image imports', async () => {
      await importsSmallSplit(d, poolImages(), 'after-split-enospc');
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

    /** The 507 a full disk gets while the upload is received, before any operation exists. */
    const refusedWith507 = async (daemon: Daemon, files: { metadata: string; rootfs: string }) => {
      const state = await imageState(daemon, poolImages());
      const before = await tree(dir);
      const res = await uploadSplit(daemon.socket, files);
      assert.equal(res.status, 507, JSON.stringify(res.body));
      assert.equal(res.body.error_code, 507);
      assert.match(res.body.error!, /^Not enough space to receive the image upload in .*\/images: write\(2\) failed with ENOSPC$/);
      assert.deepEqual(await imageState(daemon, poolImages()), state);
      assert.deepEqual((await pg.query('SELECT fingerprint FROM images')).rows, []);
      assert.deepEqual(await tree(dir), before);
      const { stdout } = await exec('df', ['--output=used', '-B1', dir]);
      assert.ok(Number(stdout.split('\n')[1]) < 50 * MiB, `the tmpfs still holds ${stdout.split('\n')[1]} bytes`);
    };

    it('a split upload (multipart) whose rootfs part fills the disk is refused with 507 and leaves no file', async () => {
      const daemon = await daemonOnTmpfs(300);
      await refusedWith507(daemon, bigRootfs);
      await importsSmallSplit(daemon, poolImages(), 'after-split-rootfs-507');
    });

    it('a split upload (multipart) whose metadata part fills the disk, before the rootfs part arrives, is refused with 507 and leaves no file', async () => {
      const daemon = await daemonOnTmpfs(300);
      await refusedWith507(daemon, bigMetadata);
      await importsSmallSplit(daemon, poolImages(), 'after-split-metadata-507');
    });

    it('a split upload (multipart) whose unpack fills the disk fails the operation and leaves no volume, no row, no file', async () => {
      const daemon = await daemonOnTmpfs(600);
      const before = await tree(dir);
      const res = await uploadSplit(daemon.socket, bigRootfs);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op = await waitFor(daemon, res.body.operation!);
      assert.equal(op.status, 'Failure');
      assert.match(op.err, /^Not enough space in storage pool "default" to unpack the image: write\(2\) failed with ENOSPC on "rootfs\/data\/noise"/);
      assert.deepEqual(await imageState(daemon, poolImages()), { rows: [], files: [], volumes: [] });
      assert.deepEqual((await pg.query('SELECT fingerprint FROM images')).rows, []);
      assert.deepEqual(await tree(dir), before);
      const { stdout } = await exec('df', ['--output=used', '-B1', dir]);
      assert.ok(Number(stdout.split('\n')[1]) < 50 * MiB, `the tmpfs still holds ${stdout.split('\n')[1]} bytes`);
      await importsSmallSplit(daemon, poolImages(), 'after-split-unpack-enospc');
    });
  });
});
