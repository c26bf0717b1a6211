// LXD's own client (Debian's lxd-client, LXD 5.0.2) edits an instance's image metadata and
// templates (`lxc config metadata show|edit`, `lxc config template list|create|show|edit|delete`)
// against berthd; a template added this way with `when: [start]` is rendered at the next start.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { listen } from '../support/events.js';
import { configureLxc, lxcEnv, lxcRunner } from '../support/lxc.js';

describe("LXD's lxc client: instance metadata and templates (container_edit_metadata)", () => {
  let d: Daemon;
  const lxc = lxcRunner(() => d, 180_000);
  const { settle } = daemonApi(() => d);
  const volume = (name: string) => join(d.dir, 'storage', 'default', 'containers', name);

  /** `lxc ...args` with `input` on its stdin (not a terminal: `edit` reads it instead of starting an editor). */
  const lxcWithInput = (input: string, ...args: string[]) =>
    new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
      const child = execFile('lxc', args, { env: lxcEnv(d), timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 }),
      );
      child.stdin?.end(input);
    });

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    await lxc('init', 'debian/12', 'meta1');
  });
  after(async () => {
    await settle(await d.api().put('/1.0/instances/meta1/state').send({ action: 'stop', force: true }));
    await d.destroy();
  });

  it('GET /1.0 announces container_edit_metadata', async () => {
    const res = await d.api().get('/1.0').expect(200);
    assert.ok((res.body.metadata.api_extensions as string[]).includes('container_edit_metadata'));
  });

  it('lxc config metadata show prints the volume metadata.yaml as api.ImageMetadata', async () => {
    const shown = parse((await lxc('config', 'metadata', 'show', 'meta1')).stdout) as Record<string, any>;
    assert.equal(shown.architecture, 'x86_64');
    assert.equal(typeof shown.creation_date, 'number');
    assert.ok(shown.creation_date > 0);
    assert.equal(shown.properties.os, 'debian');
    assert.deepEqual(shown.templates['/etc/hostname'], { when: ['create', 'copy'], create_only: false, template: 'hostname.tpl', properties: {} });
  });

  it('lxc config template list|create|edit|show work on the files of the volume templates/', async () => {
    assert.equal((await lxc('config', 'template', 'list', 'meta1', '--format', 'csv')).stdout, 'hostname.tpl\nhosts.tpl\n');
    await lxc('config', 'template', 'create', 'meta1', 'greeting.tpl');
    const created = join(volume('meta1'), 'templates', 'greeting.tpl');
    assert.equal(readFileSync(created, 'utf8'), '');
    const edit = await lxcWithInput('Hello from {{ container.name }} ({{ trigger }})\n', 'config', 'template', 'edit', 'meta1', 'greeting.tpl');
    assert.equal(edit.code, 0, edit.stderr);
    assert.equal(readFileSync(created, 'utf8'), 'Hello from {{ container.name }} ({{ trigger }})\n');
    assert.equal(lstatSync(created).mode & 0o7777, 0o644);
    assert.equal((await lxc('config', 'template', 'show', 'meta1', 'greeting.tpl')).stdout, 'Hello from {{ container.name }} ({{ trigger }})\n');
    assert.equal((await lxc('config', 'template', 'list', 'meta1', '--format', 'csv')).stdout, 'greeting.tpl\nhostname.tpl\nhosts.tpl\n');
  });

  it('lxc config metadata edit refuses bad metadata naming the field, and writes nothing', async () => {
    const before = readFileSync(join(volume('meta1'), 'metadata.yaml'));
    const badPath = await lxcWithInput(
      'architecture: x86_64\ncreation_date: 1700000000\ntemplates:\n  etc/greeting:\n    when: [start]\n    template: greeting.tpl\n',
      'config', 'metadata', 'edit', 'meta1',
    );
    assert.notEqual(badPath.code, 0);
    assert.match(badPath.stderr, /templates\["etc\/greeting"\]: must be a clean absolute path/);
    const badTrigger = await lxcWithInput(
      'architecture: x86_64\ncreation_date: 1700000000\ntemplates:\n  /etc/greeting:\n    when: [boot]\n    template: greeting.tpl\n',
      'config', 'metadata', 'edit', 'meta1',
    );
    assert.match(badTrigger.stderr, /templates\["\/etc\/greeting"\]\.when/);
    const noArch = await d.api().put('/1.0/instances/meta1/metadata').send({ creation_date: 1 }).expect(400);
    assert.equal(noArch.body.error, 'Invalid metadata.yaml field architecture: is required');
    const badType = await d.api().put('/1.0/instances/meta1/metadata').send({ architecture: 'x86_64', creation_date: 'soon' }).expect(400);
    assert.match(badType.body.error, /creation_date/);
    assert.deepEqual(readFileSync(join(volume('meta1'), 'metadata.yaml')), before);
  });

  it('a template added with lxc config metadata edit and when: [start] is rendered into the rootfs at the next start', async () => {
    const current = parse((await lxc('config', 'metadata', 'show', 'meta1')).stdout) as Record<string, any>;
    current.templates['/etc/greeting'] = { when: ['start'], template: 'greeting.tpl' };
    current.templates['/etc/never'] = { when: [], template: 'greeting.tpl' };
    const edit = await lxcWithInput(stringify(current), 'config', 'metadata', 'edit', 'meta1');
    assert.equal(edit.code, 0, edit.stderr);
    const stored = readFileSync(join(volume('meta1'), 'metadata.yaml'), 'utf8');
    assert.match(stored, /\/etc\/greeting:/);
    const shown = parse((await lxc('config', 'metadata', 'show', 'meta1')).stdout) as Record<string, any>;
    assert.deepEqual(shown.templates['/etc/greeting'], { when: ['start'], create_only: false, template: 'greeting.tpl', properties: {} });
    assert.equal(existsSync(join(volume('meta1'), 'rootfs', 'etc', 'greeting')), false);

    await lxc('start', 'meta1');
    assert.equal(readFileSync(join(volume('meta1'), 'rootfs', 'etc', 'greeting'), 'utf8'), 'Hello from meta1 (start)\n');
    assert.equal((await lxc('exec', 'meta1', '--', 'cat', '/etc/greeting')).stdout, 'Hello from meta1 (start)\n');
    assert.equal(existsSync(join(volume('meta1'), 'rootfs', 'etc', 'never')), false);
  });

  it('PATCH merges properties and templates into the current metadata', async () => {
    await d.api().patch('/1.0/instances/meta1/metadata').send({ properties: { description: 'patched' } }).expect(200);
    const got = await d.api().get('/1.0/instances/meta1/metadata').expect(200);
    assert.equal(got.body.metadata.properties.description, 'patched');
    assert.equal(got.body.metadata.properties.os, 'debian');
    assert.ok(got.body.metadata.templates['/etc/greeting']);
    await d.api().patch('/1.0/instances/meta1/metadata').set('If-Match', '"stale"').send({ properties: {} }).expect(412);
    await d.api().patch('/1.0/instances/meta1/metadata').set('If-Match', got.headers.etag as string).send({ properties: { variant: 'x' } }).expect(200);
  });

  it('lxc config template delete removes the file; a missing template is a 404', async () => {
    await lxc('config', 'template', 'delete', 'meta1', 'greeting.tpl');
    assert.equal(existsSync(join(volume('meta1'), 'templates', 'greeting.tpl')), false);
    assert.equal((await lxc('config', 'template', 'list', 'meta1', '--format', 'csv')).stdout, 'hostname.tpl\nhosts.tpl\n');
    await assert.rejects(lxc('config', 'template', 'show', 'meta1', 'greeting.tpl'), /Template "greeting.tpl" not found/);
    const res = await d.api().delete('/1.0/instances/meta1/metadata/templates?path=greeting.tpl').expect(404);
    assert.equal(res.body.error, 'Template "greeting.tpl" not found');
  });

  it('template names are plain file names, and a symlink in templates/ is replaced, never written or read through', async () => {
    for (const bad of ['../metadata.yaml', '..', '/etc/passwd', 'a/b']) {
      const res = await d.api().post(`/1.0/instances/meta1/metadata/templates?path=${encodeURIComponent(bad)}`).set('Content-Type', 'application/octet-stream').send('x').expect(400);
      assert.match(res.body.error, /^Invalid path: /);
    }
    await d.api().post('/1.0/instances/meta1/metadata/templates').set('Content-Type', 'application/octet-stream').send('x').expect(400);
    assert.deepEqual(readdirSync(join(volume('meta1'), 'templates')).sort(), ['hostname.tpl', 'hosts.tpl']);

    // An image (or anyone with the host's volume) could leave a symlink there.
    const target = join(volume('meta1'), 'rootfs', 'etc', 'motd');
    const motd = readFileSync(target);
    symlinkSync('../rootfs/etc/motd', join(volume('meta1'), 'templates', 'planted.tpl'));
    await d.api().get('/1.0/instances/meta1/metadata/templates?path=planted.tpl').expect(400);
    await d.api().put('/1.0/instances/meta1/metadata/templates?path=planted.tpl').send('overwritten?').expect(200);
    assert.deepEqual(readFileSync(target), motd);
    assert.ok(lstatSync(join(volume('meta1'), 'templates', 'planted.tpl')).isFile());
    // A raw body without Content-Type is taken as the file too.
    await d.api().put('/1.0/instances/meta1/metadata/templates?path=planted.tpl').set('Content-Type', 'text/plain').send('{"a": 1}').expect(200);
    assert.equal((await lxc('config', 'template', 'show', 'meta1', 'planted.tpl')).stdout, '{"a": 1}');

    // templates/ itself replaced by a symlink: refused, nothing written at its target.
    const templates = join(volume('meta1'), 'templates');
    const elsewhere = join(volume('meta1'), 'rootfs', 'tmp', 'tpl');
    mkdirSync(elsewhere);
    renameSync(templates, `${templates}.real`);
    symlinkSync('rootfs/tmp/tpl', templates);
    await d.api().post('/1.0/instances/meta1/metadata/templates?path=x.tpl').set('Content-Type', 'application/octet-stream').send('x').expect(400);
    assert.deepEqual(readdirSync(elsewhere), []);
    await assert.rejects(lxc('config', 'template', 'list', 'meta1'), /templates: is not a directory/);
    rmSync(templates);
    renameSync(`${templates}.real`, templates);
  });

  it('an unknown instance is a 404', async () => {
    const res = await d.api().get('/1.0/instances/nope/metadata').expect(404);
    assert.equal(res.body.error_code, 404);
    await d.api().get('/1.0/instances/nope/metadata/templates').expect(404);
  });

  it('lifecycle events: instance-metadata-updated, instance-metadata-template-created and -deleted', async () => {
    const lifecycle = await listen(d.socket, 'lifecycle');
    try {
      await lxc('config', 'template', 'create', 'meta1', 'evented.tpl');
      await lxc('config', 'template', 'delete', 'meta1', 'evented.tpl');
      await d.api().patch('/1.0/instances/meta1/metadata').send({}).expect(200);
      const action = (name: string) => (e: { metadata: Record<string, unknown> }) => e.metadata.action === name;
      const created = await lifecycle.waitFor(action('instance-metadata-template-created'));
      assert.equal(created.metadata.source, '/1.0/instances/meta1');
      assert.deepEqual(created.metadata.context, { path: 'evented.tpl' });
      await lifecycle.waitFor(action('instance-metadata-template-deleted'));
      await lifecycle.waitFor(action('instance-metadata-updated'));
    } finally {
      lifecycle.close();
    }
  });
});
