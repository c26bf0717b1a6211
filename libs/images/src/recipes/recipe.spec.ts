import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidRecipeError } from '../domain/image.errors.js';
import { cachedDirectory, loadRecipe, recipeRootfsKey } from './recipe-builder.js';
import { parseRecipe } from './recipe.js';

/** The repository's images/, from dist/libs/images/src/recipes/. */
const IMAGES = fileURLToPath(new URL('../../../../../images/', import.meta.url));

const MINIMAL = 'description: a test\nsource:\n  suite: bookworm\n';

function rejects(text: string, field: string, reason: RegExp): void {
  assert.throws(
    () => parseRecipe(text, '/recipes/test/recipe.yaml'),
    (error: unknown) => {
      assert.ok(error instanceof InvalidRecipeError, String(error));
      assert.equal(error.field, field);
      assert.match(error.message, reason);
      assert.ok(error.message.startsWith(`/recipes/test/recipe.yaml: ${field}: `), error.message);
      return true;
    },
  );
}

describe('recipe files', () => {
  it('reads the debian-12 recipe of the repository', async () => {
    const recipe = await loadRecipe(path.join(IMAGES, 'debian-12'));
    assert.equal(recipe.name, 'debian-12');
    assert.deepEqual(recipe.source, { kind: 'debootstrap', suite: 'bookworm', variant: 'minbase' });
    assert.ok(recipe.packages.includes('systemd') && recipe.packages.includes('systemd-sysv'));
    assert.deepEqual(recipe.properties, { os: 'debian', release: '12', variant: 'default' });
    const network = recipe.files.find((f) => f.path === '/etc/systemd/network/eth0.network');
    assert.ok(network?.kind === 'content' && network.content.includes('DHCP=ipv4') && network.mode === 0o644 && network.uid === 0);
    assert.deepEqual(recipe.files.find((f) => f.path === '/etc/resolv.conf'), { kind: 'symlink', path: '/etc/resolv.conf', target: '/run/systemd/resolve/stub-resolv.conf' });
    assert.ok(recipe.units.enable.includes('systemd-networkd.service'));
    assert.ok(recipe.units.mask.includes('systemd-networkd-wait-online.service'));
    assert.deepEqual(
      recipe.templates.map((t) => [t.path, t.template, t.when]),
      [
        ['/etc/hostname', 'hostname.tpl', ['create', 'copy']],
        ['/etc/hosts', 'hosts.tpl', ['create', 'copy']],
      ],
    );
  });

  it('reads the debian-12-lamp recipe, based on debian-12, its sources inside its directory', async () => {
    const recipe = await loadRecipe(path.join(IMAGES, 'debian-12-lamp', 'recipe.yaml'));
    assert.deepEqual(recipe.source, { kind: 'recipe', recipe: path.join(IMAGES, 'debian-12') });
    const page = recipe.files.find((f) => f.path === '/var/www/html/index.php');
    assert.ok(page?.kind === 'source' && page.source === path.join(IMAGES, 'debian-12-lamp', 'app', 'index.php'));
    assert.equal(recipe.commands.length, 1);
    assert.match(recipe.commands[0]!, /mariadbd --bootstrap/);
  });

  it("reads the README's example", async () => {
    const readme = await readFile(path.join(IMAGES, '..', 'README.md'), 'utf8');
    const example = /### Image recipes[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example !== undefined, 'the README has a recipe example');
    const recipe = parseRecipe(example, path.join(IMAGES, 'debian-12-lamp', 'recipe.yaml'));
    assert.deepEqual(recipe.source, { kind: 'recipe', recipe: path.join(IMAGES, 'debian-12') });
    assert.equal(recipe.files.length, 2);
    assert.deepEqual(recipe.units.mask, ['systemd-networkd-wait-online.service']);
  });

  it('reads octal modes as written, owners as numbers, and absent entries', () => {
    const recipe = parseRecipe(
      `${MINIMAL}files:\n  - path: /usr/local/bin/hello\n    content: "#!/bin/sh\\necho hi\\n"\n    mode: 0755\n    uid: 1000\n    gid: "100"\n  - path: /etc/motd\n    absent: true\n`,
      '/r/x/recipe.yaml',
    );
    assert.deepEqual(recipe.files, [
      { kind: 'content', path: '/usr/local/bin/hello', content: '#!/bin/sh\necho hi\n', mode: 0o755, uid: 1000, gid: 100 },
      { kind: 'absent', path: '/etc/motd' },
    ]);
    assert.equal(recipe.name, 'x');
    assert.deepEqual(recipe.units, { enable: [], mask: [] });
    assert.deepEqual(recipe.commands, []);
  });

  it('names the field of every mistake', () => {
    rejects('description: x\nsource: {suite: bookworm}\npackage: [vim]\n', 'package', /unknown key/);
    rejects('source: {suite: bookworm}\n', 'description', /is required/);
    rejects('description: x\n', 'source', /is required/);
    rejects('description: x\nsource: {suite: bookworm, recipe: ../a}\n', 'source', /either recipe or suite/);
    rejects('description: x\nsource: {suite: "Book worm"}\n', 'source.suite', /not a Debian suite/);
    rejects('description: x\nsource: {suite: bookworm, variant: fakechroot}\n', 'source.variant', /minbase or buildd/);
    rejects('description: x\nsource: {suite: bookworm, mirror: http://x}\n', 'source.mirror', /unknown key/);
    rejects('description: x\nsource: {recipe: .}\n', 'source.recipe', /the recipe itself/);
    rejects(`${MINIMAL}packages: [systemd, "vim; rm -rf /"]\n`, 'packages[1]', /not a Debian package name/);
    rejects(`${MINIMAL}packages: systemd\n`, 'packages', /must be a list/);
    rejects(`${MINIMAL}files:\n  - path: etc/motd\n    content: hi\n`, 'files[0].path', /absolute path/);
    rejects(`${MINIMAL}files:\n  - path: /etc/../../motd\n    content: hi\n`, 'files[0].path', /without \., \.\. or \/\//);
    rejects(`${MINIMAL}files:\n  - path: /etc//motd\n    content: hi\n`, 'files[0].path', /absolute path/);
    rejects(`${MINIMAL}files:\n  - path: /\n    content: hi\n`, 'files[0].path', /absolute path/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    content: hi\n  - path: /a\n    absent: true\n`, 'files[1].path', /already listed/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    content: hi\n    symlink: /b\n`, 'files[0]', /exactly one of/);
    rejects(`${MINIMAL}files:\n  - path: /a\n`, 'files[0]', /exactly one of/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    content: hi\n    mode: "999"\n`, 'files[0].mode', /octal mode/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    content: hi\n    mode: 0x1ff\n`, 'files[0].mode', /octal mode/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    content: hi\n    uid: root\n`, 'files[0].uid', /numeric id/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    source: ../../etc/shadow\n`, 'files[0].source', /inside the recipe directory/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    source: /etc/shadow\n`, 'files[0].source', /inside the recipe directory/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    symlink: /b\n    mode: "0644"\n`, 'files[0].mode', /does not apply to symlink/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    absent: false\n`, 'files[0].absent', /must be true/);
    rejects(`${MINIMAL}files:\n  - path: /a\n    contents: hi\n`, 'files[0].contents', /unknown key/);
    rejects(`${MINIMAL}units:\n  enable: [ssh]\n`, 'units.enable[0]', /not a systemd unit name/);
    rejects(`${MINIMAL}units:\n  disable: [ssh.service]\n`, 'units.disable', /unknown key/);
    rejects(`${MINIMAL}commands: ["true", "  "]\n`, 'commands[1]', /is empty/);
    rejects(`${MINIMAL}templates:\n  /etc/hostname:\n    when: [boot]\n    template: hostname.tpl\n`, 'templates["/etc/hostname"].when', /create, copy, start or rename/);
    rejects(`${MINIMAL}properties:\n  description: twice\n`, 'properties.description', /top-level description/);
    rejects(`${MINIMAL}description: again\n`, '(document)', /unique/);
  });
});

describe('recipe cache keys and the build cache', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-recipe-spec-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function recipeDir(name: string, yaml: string, files: Record<string, string> = {}): Promise<string> {
    const at = path.join(dir, name);
    await mkdir(at, { recursive: true });
    await writeFile(path.join(at, 'recipe.yaml'), yaml);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(at, file)), { recursive: true });
      await writeFile(path.join(at, file), content);
    }
    return at;
  }
  const key = async (at: string) => recipeRootfsKey(await loadRecipe(at));

  it('follows what the tree is made of, not what only metadata.yaml says', async () => {
    const base = await recipeDir('base', `${MINIMAL}packages: [systemd]\n`);
    const child = await recipeDir('child', 'description: child\nsource: {recipe: ../base}\nfiles:\n  - path: /srv/page\n    source: app/page\n', { 'app/page': 'one' });
    const first = await key(child);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(await key(child), first, 'the same recipe gives the same key');

    await writeFile(path.join(child, 'recipe.yaml'), 'description: another text\nproperties: {variant: x}\nsource: {recipe: ../base}\nfiles:\n  - path: /srv/page\n    source: app/page\n');
    assert.equal(await key(child), first, 'description and properties only go into metadata.yaml');

    await writeFile(path.join(child, 'app', 'page'), 'two');
    const second = await key(child);
    assert.notEqual(second, first, "a source file's content is part of the key");

    await writeFile(path.join(base, 'recipe.yaml'), `${MINIMAL}packages: [systemd, dbus]\n`);
    assert.notEqual(await key(child), second, "the base recipe's key is part of the key");
  });

  it('refuses a missing source file and a cycle of recipes, naming the field', async () => {
    const missing = await recipeDir('missing', `${MINIMAL}files:\n  - path: /a\n    source: nothing-here\n`);
    await assert.rejects(key(missing), (e: unknown) => e instanceof InvalidRecipeError && e.field === 'files[0].source' && /nothing-here/.test(e.message));
    await recipeDir('loop-a', 'description: a\nsource: {recipe: ../loop-b}\n');
    const b = await recipeDir('loop-b', 'description: b\nsource: {recipe: ../loop-a}\n');
    await assert.rejects(key(b), (e: unknown) => e instanceof InvalidRecipeError && e.field === 'source.recipe' && /cycle/.test(e.message));
    await assert.rejects(loadRecipe(path.join(dir, 'nowhere')), (e: unknown) => e instanceof InvalidRecipeError && /cannot be read|not an image recipe/.test(e.message));
    await mkdir(path.join(dir, 'empty'));
    await assert.rejects(loadRecipe(path.join(dir, 'empty')), /is not an image recipe \(no recipe\.yaml\)/);
  });

  it('reads base recipes inside the recipe\'s root: an absolute source.recipe under it, nothing outside it', async () => {
    const root = path.join(dir, 'uploaded');
    await recipeDir('uploaded/work/images/base', MINIMAL);
    const child = await recipeDir('uploaded/work/images/child', 'description: child\nsource: {recipe: /work/images/base}\n');
    const recipe = await loadRecipe(child, root);
    assert.equal(recipe.root, root);
    assert.deepEqual(recipe.source, { kind: 'recipe', recipe: path.join(root, 'work/images/base') });
    assert.match(await recipeRootfsKey(recipe), /^[0-9a-f]{64}$/, 'the lineage is read under the root');
    const escaping = await recipeDir('uploaded/work/images/escaping', 'description: out\nsource: {recipe: ../../../../base}\n');
    await assert.rejects(loadRecipe(escaping, root), (e: unknown) => e instanceof InvalidRecipeError && e.field === 'source.recipe' && /leads outside the recipe tree/.test(e.message));
    assert.equal((await loadRecipe(escaping)).source.kind, 'recipe', 'the host\'s root has no outside');
  });

  it('builds an entry once for concurrent callers and keeps nothing of a failed build', async () => {
    const cache = path.join(dir, 'cache');
    const digest = 'ab'.repeat(32);
    let builds = 0;
    const build = async (result: string) => {
      builds++;
      await mkdir(result);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await writeFile(path.join(result, 'made'), String(builds));
    };
    const results = await Promise.all([cachedDirectory(cache, digest, build), cachedDirectory(cache, digest, build), cachedDirectory(cache, digest, build)]);
    assert.equal(builds, 1);
    assert.deepEqual(new Set(results.map((r) => r.path)), new Set([path.join(cache, digest)]));
    assert.equal(results.filter((r) => !r.cached).length, 1);
    assert.equal(await readFile(path.join(cache, digest, 'made'), 'utf8'), '1');

    const failing = 'cd'.repeat(32);
    await assert.rejects(
      cachedDirectory(cache, failing, async (result) => {
        await mkdir(result);
        await writeFile(path.join(result, 'half'), 'x');
        throw new Error('step failed');
      }),
      /step failed/,
    );
    assert.ok(!existsSync(path.join(cache, failing)));
    assert.deepEqual((await readdir(cache)).filter((n) => n.startsWith('.build-')), []);

    // What an interrupted build left is removed by the next build of that key.
    const stale = path.join(cache, `.build-${failing}.dead`);
    await mkdir(path.join(stale, 'result'), { recursive: true });
    await symlink('/etc', path.join(stale, 'result', 'etc'));
    await cachedDirectory(cache, failing, (result) => mkdir(result).then(() => undefined));
    assert.ok(!existsSync(stale));
    assert.ok(existsSync('/etc/passwd'), 'the symlink was removed, not followed');
    await assert.rejects(cachedDirectory(cache, '../x', build), /not a hex digest/);
  });
});
