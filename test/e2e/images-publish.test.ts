// Templates rendered at create, and `publish` (POST /1.0/images from an instance, `berth publish`)
// against a real berthd: the published image is a real LXD unified tarball, imported like an
// upload, and instances made from it carry what the source instance had.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queryEmbedded } from '../support/db.js';
import { runBerth } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { tinyImage } from '../support/tiny-image.js';

describe('image templates and publish', () => {
  let d: Daemon;
  const rootfs = (name: string) => join(d.dir, 'storage', 'default', 'containers', name, 'rootfs');
  const finish = async (res: { status: number; body: { operation: string } }) => {
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return (await d.api().get(`${res.body.operation}/wait?timeout=60`).expect(200)).body.metadata;
  };
  const create = (name: string, alias: string) => d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias } });
  const publish = (body: object) => d.api().post('/1.0/images').set('Content-Type', 'application/json').send(body);
  const state = async () => ({
    rows: await queryEmbedded(d.dir, 'SELECT fingerprint FROM images UNION ALL SELECT name FROM image_aliases'),
    files: (await readdir(join(d.dir, 'images'))).sort(),
    volumes: (await readdir(join(d.dir, 'storage', 'default', 'images'))).sort(),
  });

  before(async () => {
    d = await startDaemon();
    const img = await tinyImage('publish');
    const op = await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'tiny').send(img.unified));
    assert.equal(op.status, 'Success', op.err);
  });
  after(async () => {
    await d.destroy();
  });

  it('renders the image\'s create templates into the new instance: /etc/hostname is its name', async () => {
    const op = await finish(await create('c1', 'tiny'));
    assert.equal(op.status, 'Success', op.err);
    assert.equal(await readFile(join(rootfs('c1'), 'etc', 'hostname'), 'utf8'), 'c1\n');
    // The image volume itself is untouched.
    const [image] = (await d.api().get('/1.0/images?recursion=1').expect(200)).body.metadata;
    assert.equal(await readFile(join(d.dir, 'storage', 'default', 'images', image.fingerprint, 'rootfs', 'etc', 'hostname'), 'utf8'), 'tiny\n');
  });

  it('publishes a stopped instance as an image with LXD\'s fingerprint, and a new instance from it has its files', async () => {
    await writeFile(join(rootfs('c1'), 'etc', 'marker'), 'made in c1\n', { mode: 0o640 });
    const op = await finish(await publish({ source: { type: 'instance', name: 'c1' }, aliases: [{ name: 'published', description: 'from c1' }], properties: { flavour: 'marked' } }));
    assert.equal(op.status, 'Success', op.err);
    const fingerprint: string = op.metadata.fingerprint;
    const file = await readFile(join(d.dir, 'images', fingerprint));
    assert.equal(createHash('sha256').update(file).digest('hex'), fingerprint);
    assert.equal(op.metadata.size, file.length);
    assert.deepEqual([...file.subarray(0, 2)], [0x1f, 0x8b]);

    const image = (await d.api().get(`/1.0/images/${fingerprint}`).expect(200)).body.metadata;
    assert.equal(image.architecture, 'x86_64');
    assert.deepEqual(image.properties, { os: 'debian', release: '12', description: 'Tiny test image', flavour: 'marked' });
    assert.deepEqual(image.aliases, [{ name: 'published', description: 'from c1' }]);
    const exported = await d.api().get(`/1.0/images/${fingerprint}/export`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(createHash('sha256').update(exported.body as Buffer).digest('hex'), fingerprint);

    const made = await finish(await create('c2', 'published'));
    assert.equal(made.status, 'Success', made.err);
    assert.equal(await readFile(join(rootfs('c2'), 'etc', 'marker'), 'utf8'), 'made in c1\n');
    assert.equal((await stat(join(rootfs('c2'), 'etc', 'marker'))).mode & 0o7777, 0o640);
    assert.equal((await stat(join(rootfs('c2'), 'usr', 'bin', 'tool'))).mode & 0o7777, 0o4755);
    assert.equal((await stat(join(rootfs('c2'), 'home', 'user'))).uid, 1000);
    // The templates came along: the new instance gets its own name.
    assert.equal(await readFile(join(rootfs('c2'), 'etc', 'hostname'), 'utf8'), 'c2\n');
  });

  it('berth publish: aliases, the public flag and key=value properties', async () => {
    const run = await runBerth(['publish', 'c2', '--alias', 'from-cli', '--public', 'os=custom', 'note=a b'], { env: d.env });
    assert.equal(run.code, 0, run.stderr);
    const fingerprint = /^Instance published with fingerprint: ([0-9a-f]{64})$/m.exec(run.stdout)?.[1];
    assert.ok(fingerprint, run.stdout);
    const image = (await d.api().get('/1.0/images/aliases/from-cli').expect(200)).body.metadata;
    assert.equal(image.target, fingerprint);
    const full = (await d.api().get(`/1.0/images/${fingerprint}`).expect(200)).body.metadata;
    assert.equal(full.public, true);
    assert.equal(full.properties.os, 'custom');
    assert.equal(full.properties.note, 'a b');
  });

  describe('refusals: nothing is created', () => {
    it('an unknown instance, another source type, bad aliases or properties', async () => {
      const before = await state();
      const unknown = await publish({ source: { type: 'instance', name: 'nope' } });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error, 'Instance not found: "nope"');
      const url = await publish({ source: { type: 'url', url: 'https://example.invalid/x' } });
      assert.equal(url.status, 400);
      assert.match(url.body.error, /source\.type/);
      const alias = await publish({ source: { type: 'instance', name: 'c1' }, aliases: [{ name: 'a b' }] });
      assert.equal(alias.status, 400);
      assert.match(alias.body.error, /aliases\[0\]\.name/);
      const props = await publish({ source: { type: 'instance', name: 'c1' }, properties: { 'bad key': 'x' } });
      assert.equal(props.status, 400);
      const field = await publish({ source: { type: 'instance', name: 'c1' }, bogus: 1 });
      assert.equal(field.status, 400);
      const cli = await runBerth(['publish', 'c1', 'novalue'], { env: d.env });
      assert.notEqual(cli.code, 0);
      assert.match(cli.stderr, /key>=<value/);
      assert.deepEqual(await state(), before);
    });

    it('an alias that already exists: the operation fails and leaves no image, file or volume', async () => {
      const before = await state();
      const op = await finish(await publish({ source: { type: 'instance', name: 'c1' }, aliases: [{ name: 'published' }] }));
      assert.equal(op.status, 'Failure');
      assert.match(op.err, /published/);
      assert.deepEqual(await state(), before);
      assert.equal(existsSync(join(d.dir, 'images')) && (await readdir(join(d.dir, 'images'))).some((f) => f.startsWith('.upload-')), false);
    });
  });
});
