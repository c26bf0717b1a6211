import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { daemonApi } from '../support/api.js';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { tinyImage, type TinyImage } from '../support/tiny-image.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('images API', () => {
  let d: Daemon;
  let img: TinyImage;
  const poolImages = () => join(d.dir, 'storage', 'default', 'images');
  const upload = (body: Buffer, headers: Record<string, string> = {}) => {
    let req = d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream');
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.send(body);
  };
  const { wait, finish } = daemonApi(() => d, { timeoutSeconds: 60 });
  const state = async () => ({
    rows: await queryEmbedded(d.dir, 'SELECT fingerprint FROM images UNION ALL SELECT name FROM image_aliases'),
    files: existsSync(join(d.dir, 'images')) ? (await readdir(join(d.dir, 'images'))).sort() : [],
    volumes: existsSync(poolImages()) ? (await readdir(poolImages())).sort() : [],
  });

  before(async () => {
    d = await startDaemon();
    img = await tinyImage();
  });
  after(async () => {
    await d.destroy();
  });

  it('imports a unified image with the fingerprint LXD computes, unpacked once into the pool', async () => {
    const op = await finish(await upload(img.unified, { 'X-LXD-properties': 'os=debian&flavour=tiny', 'X-LXD-aliases': 'tiny/base', 'X-LXD-filename': 'tiny.tar.gz' }));
    assert.equal(op.metadata.fingerprint, img.unifiedFingerprint);
    const res = await d.api().get(`/1.0/images/${img.unifiedFingerprint.slice(0, 12)}`).expect(200);
    const i = res.body.metadata;
    assert.equal(i.fingerprint, img.unifiedFingerprint);
    assert.equal(i.size, img.unified.length);
    assert.equal(i.architecture, 'x86_64');
    assert.equal(i.filename, 'tiny.tar.gz');
    assert.deepEqual(i.properties, { os: 'debian', release: '12', description: 'Tiny test image', flavour: 'tiny' });
    assert.deepEqual(i.aliases, [{ name: 'tiny/base', description: '' }]);
    assert.equal(i.created_at, new Date(1_700_000_000_000).toISOString());
    const volume = join(poolImages(), img.unifiedFingerprint);
    assert.ok((await stat(join(volume, 'metadata.yaml'))).isFile());
    const tool = await stat(join(volume, 'rootfs', 'usr', 'bin', 'tool'));
    assert.equal(tool.mode & 0o7777, 0o4755);
    assert.equal((await stat(join(volume, 'rootfs', 'home', 'user'))).uid, 1000);
    assert.ok(existsSync(join(volume, 'templates', 'hostname.tpl')));
    const list = await d.api().get('/1.0/images').expect(200);
    assert.deepEqual(list.body.metadata, [`/1.0/images/${img.unifiedFingerprint}`]);
  });

  it('exports the image byte for byte', async () => {
    const res = await d.api().get(`/1.0/images/${img.unifiedFingerprint}/export`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(res.status, 200);
    assert.equal(sha256(res.body as Buffer), img.unifiedFingerprint);
  });

  it('refuses the same image twice with 409, and keeps nothing of the second upload', async () => {
    const before = await state();
    const res = await upload(img.unified);
    assert.equal(res.status, 409);
    assert.equal(res.body.error, `Image with fingerprint ${img.unifiedFingerprint} already exists`);
    assert.deepEqual(await state(), before);
  });

  it('imports a split image (multipart metadata + rootfs), fingerprint = sha256(metadata ‖ rootfs)', async () => {
    const split = await tinyImage('split');
    const res = await d.api().post('/1.0/images').attach('metadata', split.metadata, 'meta.tar.gz').attach('rootfs', split.rootfs, 'rootfs.tar.gz');
    const op = await finish(res);
    assert.equal(op.metadata.fingerprint, split.splitFingerprint);
    assert.ok(existsSync(join(poolImages(), split.splitFingerprint, 'rootfs', 'etc', 'hostname')));
    await wait(await d.api().delete(`/1.0/images/${split.splitFingerprint}`));
  });

  it('manages aliases: create, get (with a slash), rename, retarget, delete', async () => {
    await d.api().post('/1.0/images/aliases').send({ name: 'debian/12', target: img.unifiedFingerprint.slice(0, 8), description: 'tiny' }).expect(200);
    let res = await d.api().get('/1.0/images/aliases/debian%2F12').expect(200);
    assert.deepEqual(res.body.metadata, { name: 'debian/12', description: 'tiny', target: img.unifiedFingerprint, type: 'container' });
    res = await d.api().get('/1.0/images/aliases/debian/12').expect(200);
    assert.equal(res.body.metadata.name, 'debian/12');
    await d.api().post('/1.0/images/aliases/debian%2F12').send({ name: 'bookworm' }).expect(200);
    await d.api().patch('/1.0/images/aliases/bookworm').send({ description: 'renamed' }).expect(200);
    res = await d.api().get('/1.0/images/aliases?recursion=1').expect(200);
    assert.deepEqual(res.body.metadata.map((a: { name: string; description: string }) => [a.name, a.description]), [['bookworm', 'renamed'], ['tiny/base', '']]);
    const dup = await d.api().post('/1.0/images/aliases').send({ name: 'bookworm', target: img.unifiedFingerprint });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error, 'Image alias "bookworm" already exists');
    await d.api().delete('/1.0/images/aliases/bookworm').expect(200);
    await d.api().get('/1.0/images/aliases/bookworm').expect(404);
  });

  describe('bad input: 400 or 404, nothing kept', () => {
    it('an unknown image, an ambiguous or malformed prefix, an unknown alias target', async () => {
      const before = await state();
      assert.equal((await d.api().get('/1.0/images/ffff')).status, 404);
      assert.equal((await d.api().get('/1.0/images/XYZ')).body.error, 'Invalid fingerprint: must be a sha256 fingerprint or a prefix of one (hex)');
      const bad = await d.api().post('/1.0/images/aliases').send({ name: 'x', target: 'ffff' });
      assert.equal(bad.status, 404);
      assert.equal((await d.api().post('/1.0/images/aliases').send({ name: 'a b', target: img.unifiedFingerprint })).body.error, 'Invalid name: must not contain whitespace or control characters');
      assert.deepEqual(await state(), before);
    });

    it('a fingerprint header that does not match the upload', async () => {
      const before = await state();
      const other = await tinyImage('other');
      const res = await upload(other.unified, { 'X-LXD-fingerprint': img.unifiedFingerprint });
      assert.equal(res.status, 400);
      assert.match(res.body.error, /^Image fingerprint is [0-9a-f]{64}, expected [0-9a-f]{64}$/);
      assert.deepEqual(await state(), before);
    });

    it('a hostile archive: the import fails and removes everything it wrote', async () => {
      const p = tarPack();
      const chunks: Buffer[] = [];
      p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
      p.entry({ name: 'metadata.yaml' }, 'architecture: x86_64\ncreation_date: 1\n');
      p.entry({ name: 'rootfs/', type: 'directory' });
      p.entry({ name: 'rootfs/ok', mode: 0o644 }, 'fine');
      p.entry({ name: 'rootfs/../../escape', mode: 0o644 }, 'evil');
      p.finalize();
      await new Promise<void>((r) => p.on('end', () => r()));
      const before = await state();
      const op = await wait(await upload(gzipSync(Buffer.concat(chunks))));
      assert.equal(op.status, 'Failure');
      assert.match(op.err, /\.\./);
      assert.deepEqual(await state(), before);
      assert.equal(existsSync(join(d.dir, 'escape')), false);
    });

    it('a recipe upload (berth image build) that is not only regular files and directories, or names no recipe: 400, nothing kept', async () => {
      const tar = async (entries: Array<[Record<string, unknown>, string?]>) => {
        const p = tarPack();
        const chunks: Buffer[] = [];
        p.on('data', (c: unknown) => {
          chunks.push(c as Buffer);
        });
        for (const [header, content] of entries) p.entry(header as never, content ?? '');
        p.finalize();
        await new Promise<void>((r) => p.on('end', () => r()));
        return Buffer.concat(chunks);
      };
      const build = (body: Buffer, recipe?: string) => {
        const req = d.api().post('/1.0/images').set('Content-Type', 'application/x-berth-recipe');
        return (recipe === undefined ? req : req.set('X-Berth-Recipe', encodeURIComponent(recipe))).send(body);
      };
      const before = await state();
      const linked = await tar([[{ name: 'r/recipe.yaml', type: 'symlink', linkname: '/etc/shadow' }]]);
      const res = await build(linked, '/r');
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'Unsafe archive entry "r/recipe.yaml": a recipe upload holds only regular files and directories, not a symlink');
      const escaping = await tar([[{ name: '../escape' }, 'evil']]);
      assert.match((await build(escaping, '/r')).body.error, /^Unsafe archive entry "\.\.\/escape": the name has a "\.\." component$/);
      const fine = await tar([[{ name: 'r/recipe.yaml' }, 'description: x\nsource: {suite: bookworm}\n']]);
      assert.equal((await build(fine)).body.error, 'Invalid X-Berth-Recipe: is required: the URL-encoded path of the recipe in the upload');
      assert.equal((await build(fine, '/r/../..')).body.error, 'Invalid X-Berth-Recipe: "/r/../.." must be an absolute path without ., .. or //');
      assert.equal((await build(fine, '/elsewhere')).body.error, '/elsewhere: (file): cannot be read');
      assert.deepEqual(await state(), before);
      assert.equal(existsSync(join(d.dir, 'escape')), false);
    });

    it('a truncated archive', async () => {
      const before = await state();
      const broken = (await tinyImage('truncated')).unified;
      const op = await wait(await upload(broken.subarray(0, Math.floor(broken.length / 2))));
      assert.equal(op.status, 'Failure');
      assert.deepEqual(await state(), before);
    });
  });

  it('creates instances from an image by alias, fingerprint or prefix, as copy-on-write clones', async () => {
    const create = (name: string, source: object) => d.api().post('/1.0/instances').send({ name, source: { type: 'image', ...source } });
    await finish(await create('from-alias', { alias: 'tiny/base' }));
    await wait(await create('from-prefix', { fingerprint: img.unifiedFingerprint.slice(0, 10) }));
    const volume = (n: string) => join(d.dir, 'storage', 'default', 'containers', n);
    assert.equal((await stat(join(volume('from-alias'), 'rootfs', 'usr', 'bin', 'tool'))).mode & 0o7777, 0o4755);
    assert.ok(existsSync(join(volume('from-prefix'), 'rootfs', 'etc', 'hostname')));
    const [row] = await queryEmbedded(d.dir, "SELECT image_fingerprint, architecture FROM instances WHERE name = 'from-alias'");
    assert.deepEqual(row, { image_fingerprint: img.unifiedFingerprint, architecture: 'x86_64' });
    await wait(await d.api().post('/1.0/instances/from-prefix').send({ name: 'renamed' }));
    assert.ok(existsSync(join(volume('renamed'), 'rootfs')));
    assert.equal(existsSync(volume('from-prefix')), false);
    const rows = () => queryEmbedded(d.dir, 'SELECT name FROM instances ORDER BY name');
    const before = await rows();
    const unknown = await create('x1', { alias: 'nope' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'Image alias not found: "nope"');
    const missing = await create('x1', { fingerprint: 'abcdef' });
    assert.equal(missing.status, 404);
    assert.deepEqual(await rows(), before);
    assert.equal(existsSync(volume('x1')), false);
    for (const n of ['from-alias', 'renamed']) await wait(await d.api().delete(`/1.0/instances/${n}`));
    assert.deepEqual(await readdir(join(d.dir, 'storage', 'default', 'containers')), []);
  });

  it('refuses an ambiguous fingerprint prefix with 400', async () => {
    let salt = 0;
    let other: TinyImage;
    do other = await tinyImage(`prefix-${salt++}`);
    while (other.unifiedFingerprint[0] !== img.unifiedFingerprint[0]);
    await wait(await upload(other.unified));
    const res = await d.api().post('/1.0/instances').send({ name: 'amb', source: { type: 'image', fingerprint: img.unifiedFingerprint[0] } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, `Invalid fingerprint: prefix "${img.unifiedFingerprint[0]}" matches 2 images`);
    await wait(await d.api().delete(`/1.0/images/${other.unifiedFingerprint}`));
  });

  it('deletes an image: row, aliases, files and volume', async () => {
    await wait(await d.api().delete(`/1.0/images/${img.unifiedFingerprint}`));
    assert.deepEqual(await state(), { rows: [], files: [], volumes: [] });
  });
});
