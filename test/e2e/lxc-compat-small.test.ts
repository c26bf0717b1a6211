// Smaller LXD compatibility points (issue 15), each through LXD's own client (Debian's lxd-client
// 5.0.2) where it shows there: delete protection coming from a profile, unsetting a boolean key,
// nic limits in a profile, the names of exported images, and raw image uploads of any type.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';
import { tinyImage, writeTinyImage, type TinyImage } from '../support/tiny-image.js';

/** A tar of `entries` in the order given (tar-stream writes names verbatim, a leading "/" included). */
async function tarOf(entries: { name: string; type?: 'file' | 'directory'; body?: string; mode?: number }[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => tar.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), mtime: new Date(1_700_000_000_000) }, e.body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  tar.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** POST /1.0/images with `body` and exactly the headers given (no Content-Type unless given). */
function rawPost(socket: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/1.0/images', method: 'POST', headers: { 'Content-Length': String(body.length), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe("LXD's lxc client: protection, unset, profile nic limits, image export names, raw uploads", () => {
  let d: Daemon;
  let img: TinyImage;
  const lxc = lxcRunner(() => d, 120_000);
  const { wait } = daemonApi(() => d);

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
    img = await tinyImage('compat-small');
    const file = join(d.dir, 'tiny.tar.gz');
    await writeTinyImage(file, 'compat-small');
    await lxc('image', 'import', file, '--alias', 'tiny');
  });
  after(async () => {
    await d.destroy();
  });

  it('security.protection.delete=true from a profile stops lxc delete ("Instance is protected"), until it is unset', async () => {
    await lxc('profile', 'create', 'guarded');
    await lxc('profile', 'set', 'guarded', 'security.protection.delete', 'true');
    await lxc('init', 'tiny', 'p1', '-p', 'default', '-p', 'guarded');
    await assert.rejects(lxc('delete', 'p1'), (err: { stderr: string }) => err.stderr.trim() === 'Error: Instance is protected');
    const res = await d.api().delete('/1.0/instances/p1');
    if (res.status === 202) assert.equal((await wait(res)).err, 'Instance is protected');
    else assert.deepEqual([res.status, res.body.error], [400, 'Instance is protected']);
    await d.api().get('/1.0/instances/p1').expect(200);

    // The instance's own key counts too.
    await lxc('profile', 'unset', 'guarded', 'security.protection.delete');
    await lxc('config', 'set', 'p1', 'security.protection.delete', 'true');
    await assert.rejects(lxc('delete', 'p1'), /Instance is protected/);
    await lxc('config', 'unset', 'p1', 'security.protection.delete');
    await lxc('delete', 'p1');
    await d.api().get('/1.0/instances/p1').expect(404);
  });

  it('an empty value unsets a boolean key (lxc profile unset, lxc config set k "", PATCH with "")', async () => {
    await lxc('profile', 'create', 'flags');
    await lxc('profile', 'set', 'flags', 'security.nesting', 'true');
    await lxc('profile', 'unset', 'flags', 'security.nesting');
    assert.deepEqual((await d.api().get('/1.0/profiles/flags').expect(200)).body.metadata.config, {});

    await lxc('init', 'tiny', 'u1');
    await lxc('config', 'set', 'u1', 'security.privileged', 'true');
    await lxc('config', 'set', 'u1', 'security.privileged', '');
    assert.equal((await d.api().get('/1.0/instances/u1').expect(200)).body.metadata.config['security.privileged'], undefined);
    await lxc('config', 'set', 'u1', 'boot.autostart', 'false');
    await d.api().patch('/1.0/instances/u1').send({ config: { 'boot.autostart': '' } }).expect(200);
    assert.equal((await d.api().get('/1.0/instances/u1').expect(200)).body.metadata.config['boot.autostart'], undefined);
    const bad = await d.api().patch('/1.0/instances/u1').send({ config: { 'security.privileged': 'maybe' } }).expect(400);
    assert.equal(bad.body.error, 'Invalid config["security.privileged"]: must be a boolean');
    await lxc('delete', 'u1');
  });

  it('limits.egress, limits.ingress and limits.max on a nic of a profile are taken as on an instance', async () => {
    await lxc('profile', 'create', 'shaped');
    await lxc('profile', 'device', 'add', 'shaped', 'eth1', 'nic', 'nictype=bridged', 'parent=berthbr0', 'limits.egress=10Mbit', 'limits.ingress=20Mbit');
    await lxc('profile', 'device', 'set', 'shaped', 'eth1', 'limits.max', '50Mbit');
    const device = (await d.api().get('/1.0/profiles/shaped').expect(200)).body.metadata.devices.eth1;
    assert.deepEqual(device, { type: 'nic', nictype: 'bridged', parent: 'berthbr0', 'limits.egress': '10Mbit', 'limits.ingress': '20Mbit', 'limits.max': '50Mbit' });
    const bad = await d.api().patch('/1.0/profiles/shaped').send({ devices: { eth1: { ...device, 'limits.egress': 'fast' } } }).expect(400);
    assert.match(bad.body.error, /limits\.egress/);
  });

  it('lxc image export names the file <fingerprint>.tar.gz (a split image: meta-<fp>.tar.gz and <fp>.tar.gz)', async () => {
    const out = join(d.dir, 'exported');
    await mkdir(out);
    await lxc('image', 'export', 'tiny', `${out}/`);
    assert.deepEqual(await readdir(out), [`${img.unifiedFingerprint}.tar.gz`]);
    assert.ok((await readFile(join(out, `${img.unifiedFingerprint}.tar.gz`))).equals(img.unified));

    const meta = join(d.dir, 'meta.tar.gz');
    const rootfs = join(d.dir, 'rootfs.tar.gz');
    await writeFile(meta, img.metadata);
    await writeFile(rootfs, img.rootfs);
    await lxc('image', 'import', meta, rootfs, '--alias', 'tiny-split');
    const splitOut = join(d.dir, 'exported-split');
    await mkdir(splitOut);
    await lxc('image', 'export', 'tiny-split', `${splitOut}/`);
    assert.deepEqual((await readdir(splitOut)).sort(), [`${img.splitFingerprint}.tar.gz`, `meta-${img.splitFingerprint}.tar.gz`]);
    assert.ok((await readFile(join(splitOut, `meta-${img.splitFingerprint}.tar.gz`))).equals(img.metadata));
    assert.ok((await readFile(join(splitOut, `${img.splitFingerprint}.tar.gz`))).equals(img.rootfs));
  });

  it('lxc image import takes what GNU tar takes: absolute names, content before its directory, a template without triggers', async () => {
    const metadata = 'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: crafted\ntemplates:\n  /etc/hostname:\n    when: [create]\n    template: hostname.tpl\n  /etc/never:\n    when: []\n    template: hostname.tpl\n';
    const archive = gzipSync(
      await tarOf([
        { name: 'rootfs/etc/motd', body: 'before its parents\n' },
        { name: '/metadata.yaml', body: metadata },
        { name: '/templates/hostname.tpl', body: '{{ container.name }}\n' },
        { name: '/rootfs/etc/issue', body: 'absolute\n' },
        { name: 'rootfs/', type: 'directory', mode: 0o755 },
        { name: 'rootfs/etc/', type: 'directory', mode: 0o755 },
      ]),
    );
    const file = join(d.dir, 'crafted.tar.gz');
    await writeFile(file, archive);
    await lxc('image', 'import', file, '--alias', 'crafted');
    await lxc('init', 'crafted', 'g1');
    const rootfs = join(d.dir, 'storage', 'default', 'containers', 'g1', 'rootfs');
    assert.equal(await readFile(join(rootfs, 'etc', 'motd'), 'utf8'), 'before its parents\n');
    assert.equal(await readFile(join(rootfs, 'etc', 'issue'), 'utf8'), 'absolute\n');
    assert.equal(await readFile(join(rootfs, 'etc', 'hostname'), 'utf8'), 'g1\n');
    assert.deepEqual((await readdir(join(rootfs, 'etc'))).sort(), ['hostname', 'issue', 'motd']);
    await lxc('delete', 'g1');
  });

  it('a raw image upload is taken whatever its Content-Type, unless it says JSON', async () => {
    const other = await tinyImage('raw-upload');
    for (const headers of [{}, { 'Content-Type': 'application/x-www-form-urlencoded' }] as Record<string, string>[]) {
      const res = await rawPost(d.socket, other.unified, headers);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op = await wait(res);
      assert.equal(op.status, 'Success', op.err);
      assert.equal(op.metadata.fingerprint, other.unifiedFingerprint);
      await d.api().get(`/1.0/images/${other.unifiedFingerprint}`).expect(200);
      await wait(await d.api().delete(`/1.0/images/${other.unifiedFingerprint}`));
    }
    const json = await rawPost(d.socket, other.unified, { 'Content-Type': 'application/json' });
    assert.equal(json.status, 400);
    await d.api().get(`/1.0/images/${other.unifiedFingerprint}`).expect(404);
  });
});
