import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { applyImageTemplates, type TemplateInstance } from './image-templates.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const instance: TemplateInstance = {
  name: 'web1',
  architecture: 'x86_64',
  ephemeral: false,
  config: { 'user.motd': 'hello', 'security.privileged': 'false' },
  devices: { eth0: { type: 'nic', network: 'berthbr0' } },
};

/** An instance volume as a clone of an image leaves it: metadata.yaml, templates/, rootfs/. */
function volume(templates: string, files: Record<string, string>): { volume: string; rootfs: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'berth-templates-'));
  dirs.push(base);
  const vol = join(base, 'volume');
  const outside = join(base, 'outside');
  mkdirSync(outside);
  mkdirSync(join(vol, 'templates'), { recursive: true });
  mkdirSync(join(vol, 'rootfs', 'etc'), { recursive: true });
  writeFileSync(join(vol, 'metadata.yaml'), `architecture: x86_64\ncreation_date: 1700000000\ntemplates:\n${templates}`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(vol, 'templates', name), text);
  return { volume: vol, rootfs: join(vol, 'rootfs'), outside };
}

describe('applyImageTemplates', () => {
  it('renders the templates of a trigger with LXD\'s variables, and only those', async () => {
    const v = volume(
      [
        '  /etc/hostname: {when: [create, copy], template: hostname.tpl}',
        '  /etc/hosts: {when: [create], template: hosts.tpl}',
        '  /etc/motd: {when: [start], template: motd.tpl, properties: {greeting: hi}}',
        '  /var/lib/cloud/seed/meta: {when: [create], template: meta.tpl}',
        '',
      ].join('\n'),
      {
        'hostname.tpl': '{{ container.name }}\n',
        'hosts.tpl': '127.0.1.1\t{{ instance.name }}\n127.0.0.1\tlocalhost\n',
        'motd.tpl': '{{ properties.greeting }} {{ config["user.motd"] }} on {{ trigger }} {{ path }}\n',
        'meta.tpl': '{{ container.architecture }} {{ container.privileged }} {{ container.ephemeral }} {{ devices.eth0.network }} {{ config.missing | default: "none" }}\n',
      },
    );
    const created = await applyImageTemplates(v.volume, 'create', instance);
    assert.deepEqual(created, { rendered: ['/etc/hostname', '/etc/hosts', '/var/lib/cloud/seed/meta'], skipped: [] });
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'hostname'), 'utf8'), 'web1\n');
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'hosts'), 'utf8'), '127.0.1.1\tweb1\n127.0.0.1\tlocalhost\n');
    assert.equal(readFileSync(join(v.rootfs, 'var', 'lib', 'cloud', 'seed', 'meta'), 'utf8'), 'x86_64 false false berthbr0 none\n');
    assert.equal(statSync(join(v.rootfs, 'var', 'lib', 'cloud')).mode & 0o7777, 0o755);
    assert.equal(statSync(join(v.rootfs, 'etc', 'hostname')).mode & 0o7777, 0o644);
    assert.equal(existsSync(join(v.rootfs, 'etc', 'motd')), false);

    const started = await applyImageTemplates(v.volume, 'start', instance);
    assert.deepEqual(started, { rendered: ['/etc/motd'], skipped: [] });
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'motd'), 'utf8'), 'hi hello on start /etc/motd\n');
  });

  it('keeps the owner and mode of a file it replaces, and leaves a create_only file alone', async () => {
    const v = volume('  /etc/hostname: {when: [create], template: h.tpl}\n  /etc/machine-info: {when: [create], template: h.tpl, create_only: true}\n', { 'h.tpl': '{{ container.name }}' });
    writeFileSync(join(v.rootfs, 'etc', 'hostname'), 'old\n');
    chmodSync(join(v.rootfs, 'etc', 'hostname'), 0o600);
    chownSync(join(v.rootfs, 'etc', 'hostname'), 1234, 1234);
    writeFileSync(join(v.rootfs, 'etc', 'machine-info'), 'kept\n');
    const report = await applyImageTemplates(v.volume, 'create', instance);
    assert.deepEqual(report.rendered, ['/etc/hostname']);
    const st = statSync(join(v.rootfs, 'etc', 'hostname'));
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o600, 1234, 1234]);
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'hostname'), 'utf8'), 'web1');
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'machine-info'), 'utf8'), 'kept\n');
  });

  it('writes inside the rootfs whatever symlinks the guest planted, never outside it', async () => {
    const v = volume(
      '  /etc/hostname: {when: [create], template: h.tpl}\n  /run/x/file: {when: [create], template: h.tpl}\n  /etc/hosts: {when: [create], template: link.tpl}\n',
      { 'h.tpl': '{{ container.name }}' },
    );
    symlinkSync(join(v.outside, 'hostname'), join(v.rootfs, 'etc', 'hostname'));
    symlinkSync(v.outside, join(v.rootfs, 'run'));
    // The same absolute path inside the rootfs: where /run leads when resolved in the root.
    mkdirSync(join(v.rootfs, v.outside), { recursive: true });
    // A template that is a symlink leads inside templates/, not to the host's file.
    symlinkSync('/etc/passwd', join(v.volume, 'templates', 'link.tpl'));
    const report = await applyImageTemplates(v.volume, 'create', instance);
    assert.deepEqual(readdirSync(v.outside), []);
    assert.equal(lstatSync(join(v.rootfs, 'etc', 'hostname')).isFile(), true);
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'hostname'), 'utf8'), 'web1');
    assert.equal(readFileSync(join(v.rootfs, v.outside, 'x', 'file'), 'utf8'), 'web1');
    assert.deepEqual(report.rendered, ['/etc/hostname', '/run/x/file']);
    assert.equal(report.skipped.length, 1);
    assert.equal(report.skipped[0].path, '/etc/hosts');
    assert.match(report.skipped[0].reason, /^link\.tpl: .*ENOENT/);
    assert.equal(existsSync(join(v.rootfs, 'etc', 'hosts')), false);
  });

  it('skips hostile or unsupported templates with the reason, and renders the others', async () => {
    const templates = {
      'proto.tpl': '[{{ container.constructor }}][{{ config.__proto__ }}][{{ container.name.constructor.name }}]',
      'include.tpl': '{% include "/etc/passwd" %}',
      'pongo.tpl': '{{ config_get("user.meta-data", "") }}',
      'loop.tpl': '{% for i in (1..100000000) %}{{ i }}{% endfor %}',
      'big.tpl': '{% for i in (1..300000) %}xxxxxxxxxx{% endfor %}',
      'ok.tpl': '{{ container.name }}',
    };
    const v = volume(Object.keys(templates).map((t) => `  /etc/${t.replace('.tpl', '')}: {when: [create], template: ${t}}\n`).join(''), templates);
    const report = await applyImageTemplates(v.volume, 'create', instance);
    assert.deepEqual(report.rendered, ['/etc/proto', '/etc/ok']);
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'proto'), 'utf8'), '[][][]');
    assert.equal(readFileSync(join(v.rootfs, 'etc', 'ok'), 'utf8'), 'web1');
    assert.deepEqual(
      report.skipped.map((s) => s.path),
      ['/etc/include', '/etc/pongo', '/etc/loop', '/etc/big'],
    );
    for (const name of ['include', 'pongo', 'loop', 'big']) assert.equal(existsSync(join(v.rootfs, 'etc', name)), false, name);
  });

  it('does nothing for a volume without metadata.yaml', async () => {
    const base = mkdtempSync(join(tmpdir(), 'berth-templates-'));
    dirs.push(base);
    mkdirSync(join(base, 'rootfs'));
    assert.deepEqual(await applyImageTemplates(base, 'create', instance), { rendered: [], skipped: [] });
    assert.deepEqual(readdirSync(join(base, 'rootfs')), []);
  });
});
