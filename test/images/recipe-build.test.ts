// The recipe builder on real trees: recipes based on images/debian-12 (built once and cached),
// their files, units and commands applied in chroots, and what a failed build leaves (nothing).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidRecipeError, RecipeBuildError } from '../../libs/images/src/domain/image.errors.js';
import { buildRecipeRootfs, DEFAULT_ROOTFS_CACHE, loadRecipe, recipeRootfsKey } from '../../libs/images/src/recipes/recipe-builder.js';

const DEBIAN_12 = fileURLToPath(new URL('../../../images/debian-12', import.meta.url));

/** Processes whose root directory starts with `prefix` (a chroot step's leftovers). */
async function processesRootedIn(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const root = await readlink(`/proc/${pid}/root`).catch(() => '');
    if (root.startsWith(prefix)) found.push(pid);
  }
  return found;
}

/** Mount points whose path starts with `prefix`, in this mount namespace (the host's). */
async function mountsUnder(prefix: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((line) => line.split(' ')[4] ?? '').filter((mount) => mount.startsWith(prefix));
}

describe('recipe builds (debootstrap tree, chroot steps)', () => {
  let work: string;
  let hostDir: string;
  const built: string[] = [];
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  before(async () => {
    work = await mkdtemp('/var/tmp/berth-recipe-test-');
    // A directory that exists on the host and, under the same name, inside the tree: a symlink to
    // it planted in the tree must lead to the tree's copy, never to the host's.
    hostDir = path.join(work, 'host-side');
    await mkdir(hostDir);
  });
  after(async () => {
    for (const rootfs of built) await rm(rootfs, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  async function recipe(name: string, yaml: string, files: Record<string, string> = {}) {
    const dir = path.join(work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'recipe.yaml'), yaml);
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, file), content);
    return loadRecipe(dir);
  }

  it('applies files, units and commands in the tree, and finds the tree cached the second time', async () => {
    const base = await recipe(
      'planted',
      `description: a tree with a planted symlink\nsource: {recipe: ${DEBIAN_12}}\ncommands:\n  - mkdir -p ${hostDir} && ln -s ${hostDir} /opt/out\n`,
    );
    const r1 = await buildRecipeRootfs(base, { log });
    built.push(r1.rootfs);
    assert.equal(r1.cached, false);

    const child = await recipe(
      'child',
      [
        'description: files, units and commands',
        'source: {recipe: ../planted}',
        'files:',
        '  - path: /usr/local/bin/hello',
        '    content: "#!/bin/sh\\necho hello from $(hostname)\\n"',
        '    mode: "0750"',
        '    uid: 0',
        '    gid: "100"',
        '  - path: /srv/page.html',
        '    source: page.html',
        '  - path: /etc/issue.net',
        '    absent: true',
        '  - path: /etc/motd',
        '    symlink: /srv/page.html',
        '  - path: /opt/out/through-the-link',
        '    content: written in the tree',
        '  - path: /lib/berth-test/merged-usr',
        '    content: lands in usr/lib',
        '  - path: /etc/systemd/system/berth-test.service',
        '    content: |',
        '      [Service]',
        '      ExecStart=/usr/local/bin/hello',
        '      [Install]',
        '      WantedBy=multi-user.target',
        'units:',
        '  enable: [berth-test.service]',
        '  mask: [systemd-journald-audit.socket]',
        'commands:',
        '  - test -x /usr/local/bin/hello && test "$(readlink /etc/motd)" = /srv/page.html',
        '  - echo "$(id -u) $$" > /root/command-ran; echo scratch > /tmp/scratch; echo state > /run/state; touch /dev/probe',
        '  - sleep 600 & echo started a daemon',
        '  - test -f /proc/self/status && test "$(cat /proc/1/comm)" != init',
      ].join('\n'),
      { 'page.html': '<p>from the recipe directory</p>\n' },
    );
    const r2 = await buildRecipeRootfs(child, { log });
    built.push(r2.rootfs);
    assert.equal(r2.cached, false);
    const root = r2.rootfs;

    const hello = await lstat(path.join(root, 'usr/local/bin/hello'));
    assert.equal(hello.mode & 0o7777, 0o750);
    assert.equal(hello.gid, 100);
    assert.equal(await readFile(path.join(root, 'srv/page.html'), 'utf8'), '<p>from the recipe directory</p>\n');
    assert.equal(await readlink(path.join(root, 'etc/motd')), '/srv/page.html');
    assert.ok(!existsSync(path.join(root, 'etc/issue.net')));
    assert.equal(await readFile(path.join(root, hostDir, 'through-the-link'), 'utf8'), 'written in the tree');
    assert.deepEqual(await readdir(hostDir), [], "the host's directory of the same name is untouched");
    assert.equal(await readFile(path.join(root, 'usr/lib/berth-test/merged-usr'), 'utf8'), 'lands in usr/lib');
    assert.equal(await readlink(path.join(root, 'etc/systemd/system/multi-user.target.wants/berth-test.service')), '/etc/systemd/system/berth-test.service');
    assert.equal(await readlink(path.join(root, 'etc/systemd/system/systemd-journald-audit.socket')), '/dev/null');
    assert.match(await readFile(path.join(root, 'root/command-ran'), 'utf8'), /^0 1\n$/, 'a command runs as root, PID 1 of its own PID namespace');

    // What the steps left in /run, /tmp and /dev was on tmpfs; their daemons and mounts are gone.
    assert.ok(!existsSync(path.join(root, 'tmp/scratch')) && !existsSync(path.join(root, 'run/state')));
    assert.ok(!existsSync(path.join(root, 'dev/probe')), "the steps' /dev is their own, not the tree's");
    assert.deepEqual(await processesRootedIn(root), []);
    assert.deepEqual(await mountsUnder(`${DEFAULT_ROOTFS_CACHE}/.build-${r2.key}`), []);
    // The build's own scaffolding is not in the image; debian-12's resolv.conf is still its link.
    assert.ok(!existsSync(path.join(root, 'usr/sbin/policy-rc.d')));
    assert.equal(await readlink(path.join(root, 'etc/resolv.conf')), '/run/systemd/resolve/stub-resolv.conf');
    assert.equal(await readFile(path.join(root, 'etc/berth-recipe'), 'utf8'), `child ${r2.key}\n`);
    // The base tree was copied, not changed.
    assert.ok(!existsSync(path.join(r1.rootfs, 'usr/local/bin/hello')));

    const again = await buildRecipeRootfs(await loadRecipe(path.join(work, 'child')));
    assert.deepEqual(again, { ...r2, cached: true });
  });

  it('stops at a failing command, naming it, and leaves no tree, build directory, mount or process', async () => {
    const failing = await recipe(
      'failing',
      `description: fails\nsource: {recipe: ${DEBIAN_12}}\ncommands:\n  - sleep 600 &\n  - "true"\n  - echo about to fail; exit 3\n  - touch /never\n`,
    );
    const key = await recipeRootfsKey(failing);
    lines.length = 0;
    await assert.rejects(buildRecipeRootfs(failing, { log }), (error: unknown) => {
      assert.ok(error instanceof RecipeBuildError, String(error));
      assert.equal(error.step, 'commands[2]');
      assert.match(error.message, /failed at commands\[2\]: sh exited with status 3: about to fail/);
      return true;
    });
    assert.ok(!lines.some((l) => l.includes('[failing] commands[3]')), 'no step runs after the failure');
    // Other builds (of other keys) may run at the same time: only this key's traces count.
    const entries = await readdir(DEFAULT_ROOTFS_CACHE);
    assert.deepEqual(entries.filter((n) => n.includes(key) && n !== `.${key}.lock`), []);
    assert.deepEqual(await mountsUnder(`${DEFAULT_ROOTFS_CACHE}/.build-${key}`), []);
    assert.deepEqual(await processesRootedIn(`${DEFAULT_ROOTFS_CACHE}/.build-${key}`), []);
  });

  it('refuses a recipe whose source file is missing before building anything', async () => {
    const broken = await recipe('broken', `description: broken\nsource: {recipe: ${DEBIAN_12}}\nfiles:\n  - path: /a\n    source: not-there\n`);
    const before = (await readdir(DEFAULT_ROOTFS_CACHE)).sort();
    await assert.rejects(buildRecipeRootfs(broken), (e: unknown) => e instanceof InvalidRecipeError && e.field === 'files[0].source');
    assert.deepEqual((await readdir(DEFAULT_ROOTFS_CACHE)).sort(), before);
  });
});
