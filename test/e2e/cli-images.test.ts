// `berth image ...` (the real CLI) against a real berthd: imports stream the files to the daemon,
// exports come back byte for byte, and effects are read back through the REST API, the
// daemon's database and its image directories.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { queryEmbedded } from '../support/db.js';
import { BERTH, startDaemon, type Daemon } from '../support/daemon.js';
import { runBerth } from '../support/cli.js';
import { tinyImage, writeTinyImage, type TinyImage } from '../support/tiny-image.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface ImageJson {
  fingerprint: string;
  filename: string;
  size: number;
  public: boolean;
  properties: Record<string, string>;
  aliases: { name: string; description: string }[];
}

const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

/** Asserts a failed run: exit 1, nothing on stdout, and exactly one "Error: ..." line on stderr. */
function assertOneLineError(result: Run, message: RegExp): void {
  assert.equal(result.code, 1, JSON.stringify(result));
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^Error: [^\n]+\n$/, JSON.stringify(result.stderr));
  assert.match(result.stderr.trimEnd(), message);
}

describe('berth image', () => {
  let d: Daemon;
  let work: string;
  let img: TinyImage;
  let split: TinyImage;

  const berth = (args: string[], input = ''): Promise<Run> => runBerth(args, { env: d.env, cwd: work, input });

  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await berth(args, input);
    assert.equal(result.code, 0, `berth ${args.join(' ')}: ${JSON.stringify(result)}`);
    assert.equal(result.stderr, '');
    return result.stdout;
  };

  const apiImage = async (fingerprint: string): Promise<ImageJson> =>
    (await d.api().get(`/1.0/images/${fingerprint}`).expect(200)).body.metadata as ImageJson;
  /** Everything an image command may change: rows, aliases, stored files and unpacked volumes. */
  const snapshot = async () => {
    const poolImages = join(d.dir, 'storage', 'default', 'images');
    return {
      images: (await d.api().get('/1.0/images?recursion=1').expect(200)).body.metadata,
      aliases: (await d.api().get('/1.0/images/aliases?recursion=1').expect(200)).body.metadata,
      rows: await queryEmbedded(d.dir, 'SELECT fingerprint AS name FROM images UNION ALL SELECT name FROM image_aliases ORDER BY name'),
      files: existsSync(join(d.dir, 'images')) ? (await readdir(join(d.dir, 'images'))).sort() : [],
      volumes: existsSync(poolImages) ? (await readdir(poolImages)).sort() : [],
    };
  };

  before(async () => {
    d = await startDaemon();
    work = await mkdtemp(join(tmpdir(), 'berth-cli-images-'));
    img = await tinyImage();
    split = await tinyImage('split');
    await writeFile(join(work, 'tiny.tar.gz'), img.unified);
    await writeFile(join(work, 'meta.tar.gz'), split.metadata);
    await writeFile(join(work, 'rootfs.tar.gz'), split.rootfs);
  });
  after(async () => {
    await d.destroy();
    await rm(work, { recursive: true, force: true });
  });

  it('imports a unified image with aliases, properties and the public flag', async () => {
    const out = await ok([
      'image', 'import', 'tiny.tar.gz', '--alias', 'tiny/base', '--alias', 'tiny', '--public', '--property', 'flavour=small', '--property', 'note=a b&c',
    ]);
    assert.equal(out, `Image imported with fingerprint: ${img.unifiedFingerprint}\n`);
    const image = await apiImage(img.unifiedFingerprint);
    assert.equal(image.filename, 'tiny.tar.gz');
    assert.equal(image.size, img.unified.length);
    assert.equal(image.public, true);
    assert.deepEqual(image.properties, { os: 'debian', release: '12', description: 'Tiny test image', flavour: 'small', note: 'a b&c' });
    assert.deepEqual(image.aliases.map((a) => a.name).sort(), ['tiny', 'tiny/base']);
    assert.ok(existsSync(join(d.dir, 'storage', 'default', 'images', img.unifiedFingerprint, 'rootfs', 'usr', 'bin', 'tool')));
  });

  it('imports a split image (metadata and rootfs tarballs) with LXD\'s fingerprint', async () => {
    assert.equal(await ok(['image', 'import', 'meta.tar.gz', 'rootfs.tar.gz', '--alias', 'split']), `Image imported with fingerprint: ${split.splitFingerprint}\n`);
    assert.equal(split.splitFingerprint, sha256(split.metadata, split.rootfs));
    const image = await apiImage(split.splitFingerprint);
    assert.equal(image.size, split.metadata.length + split.rootfs.length);
    assert.equal(image.public, false);
    assert.deepEqual(image.aliases, [{ name: 'split', description: '' }]);
    assert.ok(existsSync(join(d.dir, 'storage', 'default', 'images', split.splitFingerprint, 'rootfs', 'etc', 'hostname')));
  });

  it('draws a progress bar on a terminal, and only there', async () => {
    const fingerprint = await writeTinyImage(join(work, 'tty.tar.gz'), 'tty');
    // script(1) gives the CLI a pseudo-terminal; its output is stdout and stderr together.
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'script',
        ['-qec', `${process.execPath} ${BERTH} image import tty.tar.gz --alias tty`, '/dev/null'],
        { env: d.env, cwd: work },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });
    assert.match(output, /Uploading image \[[^\]]*\] \d+%/);
    assert.match(output, new RegExp(`Image imported with fingerprint: ${fingerprint}`));
    assert.equal((await apiImage(fingerprint)).aliases[0]?.name, 'tty');
    await ok(['image', 'delete', 'tty']);
    await d.api().get(`/1.0/images/${fingerprint}`).expect(404);
  });

  it('lists images as lxc does, filtered, and as CSV, JSON and YAML', async () => {
    const table = await ok(['image', 'list']);
    assert.match(table.split('\n')[1] ?? '', /^\| +ALIAS +\| +FINGERPRINT +\| PUBLIC \| +DESCRIPTION +\| ARCHITECTURE \| +TYPE +\| +SIZE +\| +UPLOAD DATE +\|$/);
    assert.match(table, new RegExp(`^\\| tiny \\(1 more\\) \\| ${img.unifiedFingerprint.slice(0, 12)} \\| yes +\\| Tiny test image \\| x86_64 +\\| CONTAINER \\| ${img.unified.length}B +\\| \\w{3} \\d+, \\d{4} at \\d+:\\d\\d[ap]m \\(UTC\\) \\|$`, 'm'));
    assert.match(table, new RegExp(`^\\| split +\\| ${split.splitFingerprint.slice(0, 12)} \\| no `, 'm'));

    const csv = (await ok(['image', 'list', 'split', '--format', 'csv'])).trimEnd().split('\n');
    assert.equal(csv.length, 1);
    assert.match(csv[0] ?? '', new RegExp(`^split,${split.splitFingerprint.slice(0, 12)},no,Tiny test image,x86_64,CONTAINER,`));
    const unified = await ok(['image', 'list', 'tiny/base', '--format', 'csv']);
    assert.match(unified, new RegExp(`^tiny \\(1 more\\),${img.unifiedFingerprint.slice(0, 12)},yes,`));
    assert.equal(await ok(['image', 'list', 'flavour=small', '--format', 'csv']), unified);

    const json = JSON.parse(await ok(['image', 'list', '--format', 'json'])) as ImageJson[];
    assert.deepEqual(json.map((i) => i.fingerprint).sort(), [img.unifiedFingerprint, split.splitFingerprint].sort());
    assert.deepEqual(parseYaml(await ok(['image', 'list', '--format', 'yaml'])), json);
  });

  it('shows an image by alias or fingerprint prefix: info, show', async () => {
    const info = await ok(['image', 'info', 'tiny/base']);
    assert.match(info, new RegExp(`^Fingerprint: ${img.unifiedFingerprint}\nSize: ${img.unified.length}B\nArchitecture: x86_64\nType: container\nPublic: yes\nTimestamps:\n    Created: 2023/11/14 22:13 UTC\n`));
    assert.match(info, /^Properties:\n {4}description: Tiny test image\n {4}flavour: small\n {4}note: a b&c\n {4}os: debian\n {4}release: 12\nAliases:\n/m);
    assert.match(info, /^ {4}Expires: never$/m);
    assert.equal(await ok(['image', 'info', img.unifiedFingerprint.slice(0, 8)]), info);

    const shown = parseYaml(await ok(['image', 'show', split.splitFingerprint.slice(0, 10)])) as ImageJson;
    assert.deepEqual(shown, await apiImage(split.splitFingerprint));
    assert.deepEqual(JSON.parse(await ok(['image', 'show', 'split', '--format', 'json'])), shown);
  });

  it('edits an image\'s properties and public flag from standard input', async () => {
    const edited = 'public: false\nauto_update: false\nproperties:\n  os: debian\n  release: 12\n  description: Edited\nprofiles: [default]\n';
    assert.equal(await ok(['image', 'edit', 'split'], edited), '');
    const image = await apiImage(split.splitFingerprint);
    assert.deepEqual(image.properties, { os: 'debian', release: '12', description: 'Edited' });
    assert.equal(image.public, false);
    // What `show` prints can be fed back unchanged.
    const shown = await ok(['image', 'show', 'split']);
    await ok(['image', 'edit', 'split'], shown);
    assert.deepEqual((await apiImage(split.splitFingerprint)).properties, image.properties);
  });

  it('creates, lists, renames and deletes aliases', async () => {
    assert.equal(await ok(['image', 'alias', 'create', 'debian/12', img.unifiedFingerprint.slice(0, 8), '--description', 'Bookworm']), '');
    let alias = (await d.api().get('/1.0/images/aliases/debian%2F12').expect(200)).body.metadata;
    assert.deepEqual(alias, { name: 'debian/12', description: 'Bookworm', target: img.unifiedFingerprint, type: 'container' });

    const table = await ok(['image', 'alias', 'list']);
    assert.match(table, new RegExp(`^\\| debian/12 +\\| ${img.unifiedFingerprint.slice(0, 12)} \\| CONTAINER \\| Bookworm +\\|$`, 'm'));
    assert.deepEqual(
      (await ok(['image', 'alias', 'list', '--format', 'csv'])).trimEnd().split('\n').map((line) => line.split(',')[0]),
      ['debian/12', 'split', 'tiny', 'tiny/base'],
    );
    assert.equal(await ok(['image', 'alias', 'list', 'debian', '--format', 'csv']), `debian/12,${img.unifiedFingerprint.slice(0, 12)},CONTAINER,Bookworm\n`);

    assert.equal(await ok(['image', 'alias', 'rename', 'debian/12', 'bookworm.v1']), '');
    await d.api().get('/1.0/images/aliases/debian%2F12').expect(404);
    alias = (await d.api().get('/1.0/images/aliases/bookworm.v1').expect(200)).body.metadata;
    assert.equal(alias.target, img.unifiedFingerprint);
    assert.match(await ok(['image', 'info', 'bookworm.v1']), new RegExp(`^Fingerprint: ${img.unifiedFingerprint}$`, 'm'));

    assert.equal(await ok(['image', 'alias', 'delete', 'bookworm.v1']), '');
    await d.api().get('/1.0/images/aliases/bookworm.v1').expect(404);
    await apiImage(img.unifiedFingerprint);
  });

  it('exports a unified image byte for byte, into a directory (named as LXD names it) or to a file', async () => {
    const out = join(work, 'out');
    await mkdir(out);
    const named = join(out, `${img.unifiedFingerprint}.tar.gz`);
    assert.equal(await ok(['image', 'export', 'tiny/base', out]), `Image exported to ${named}\n`);
    const exported = await readFile(named);
    assert.equal(sha256(exported), img.unifiedFingerprint);
    assert.ok(exported.equals(img.unified));

    assert.equal(await ok(['image', 'export', img.unifiedFingerprint.slice(0, 6), join(out, 'copy.tgz')]), `Image exported to ${join(out, 'copy.tgz')}\n`);
    assert.equal(sha256(await readFile(join(out, 'copy.tgz'))), img.unifiedFingerprint);
  });

  it('exports a split image as its two files, in the current directory by default', async () => {
    const out = join(work, 'split-out');
    await mkdir(out);
    const [meta, rootfs] = [join(out, `meta-${split.splitFingerprint}.tar.gz`), join(out, `${split.splitFingerprint}.tar.gz`)];
    assert.equal(await ok(['image', 'export', 'split', out]), `Image exported to ${meta} and ${rootfs}\n`);
    assert.ok((await readFile(meta)).equals(split.metadata));
    assert.ok((await readFile(rootfs)).equals(split.rootfs));
    assert.equal(sha256(await readFile(meta), await readFile(rootfs)), split.splitFingerprint);

    assert.equal(await ok(['image', 'export', 'split']), `Image exported to meta-${split.splitFingerprint}.tar.gz and ${split.splitFingerprint}.tar.gz\n`);
    assert.ok((await readFile(join(work, `${split.splitFingerprint}.tar.gz`))).equals(split.rootfs));

    assert.equal(await ok(['image', 'export', 'split', join(out, 'named')]), `Image exported to ${join(out, 'named')} and ${join(out, 'named.root')}\n`);
    assert.equal(sha256(await readFile(join(out, 'named')), await readFile(join(out, 'named.root'))), split.splitFingerprint);
  });

  it('re-imports an exported image with the same fingerprint', async () => {
    const out = join(work, 'roundtrip');
    await mkdir(out);
    await ok(['image', 'export', 'split', out]);
    await ok(['image', 'delete', 'split']);
    await d.api().get(`/1.0/images/${split.splitFingerprint}`).expect(404);
    const reimported = await ok(['image', 'import', join(out, `meta-${split.splitFingerprint}.tar.gz`), join(out, `${split.splitFingerprint}.tar.gz`), '--alias', 'split']);
    assert.equal(reimported, `Image imported with fingerprint: ${split.splitFingerprint}\n`);
  });

  describe('errors: one line, nothing changed', () => {
    it('refuses a missing file, a directory, and an image that is already there', async () => {
      const before = await snapshot();
      assertOneLineError(await berth(['image', 'import', 'absent.tar.gz']), /^Error: cannot read absent\.tar\.gz: no such file or directory$/);
      assertOneLineError(await berth(['image', 'import', 'meta.tar.gz', 'absent']), /^Error: cannot read absent: no such file or directory$/);
      assertOneLineError(await berth(['image', 'import', '.']), /^Error: cannot read \.: not a regular file$/);
      assertOneLineError(
        await berth(['image', 'import', 'tiny.tar.gz']),
        new RegExp(`^Error: Image with fingerprint ${img.unifiedFingerprint} already exists$`),
      );
      assert.deepEqual(await snapshot(), before);
    });

    it('refuses a file that is not an image, and leaves nothing of it', async () => {
      await writeFile(join(work, 'garbage.tar.gz'), Buffer.from('this is not a tarball at all\n'.repeat(100)));
      const before = await snapshot();
      const result = await berth(['image', 'import', 'garbage.tar.gz', '--alias', 'garbage']);
      assertOneLineError(result, /^Error: .+/);
      assert.doesNotMatch(result.stderr, /imported/);
      assert.deepEqual(await snapshot(), before);
    });

    it('refuses bad aliases and properties before or at the server', async () => {
      const other = await writeTinyImage(join(work, 'other.tar.gz'), 'other');
      const before = await snapshot();
      assertOneLineError(await berth(['image', 'import', 'other.tar.gz', '--alias', 'tiny']), /^Error: Image alias "tiny" already exists$/);
      assertOneLineError(await berth(['image', 'import', 'other.tar.gz', '--alias', 'a b']), /^Error: Invalid X-LXD-aliases\[0\]: /);
      assertOneLineError(await berth(['image', 'import', 'other.tar.gz', '--property', 'novalue']), /^Error: option '--property <key=value>' argument 'novalue' is invalid\. expected <key>=<value>$/);
      assert.deepEqual(await snapshot(), before);
      await d.api().get(`/1.0/images/${other}`).expect(404);
    });

    it('reports unknown or ambiguous images', async () => {
      let salt = 0;
      let twin: TinyImage;
      do twin = await tinyImage(`twin-${salt++}`);
      while (twin.unifiedFingerprint[0] !== img.unifiedFingerprint[0]);
      await writeFile(join(work, 'twin.tar.gz'), twin.unified);
      await ok(['image', 'import', 'twin.tar.gz']);
      const before = await snapshot();
      assertOneLineError(await berth(['image', 'info', 'nope']), /^Error: Image not found: "nope"$/);
      assertOneLineError(await berth(['image', 'show', 'ffffffffffff']), /^Error: Image not found: "ffffffffffff"$/);
      assertOneLineError(
        await berth(['image', 'delete', img.unifiedFingerprint[0] ?? '']),
        new RegExp(`^Error: Invalid fingerprint: prefix "${img.unifiedFingerprint[0]}" matches \\d+ images$`),
      );
      assertOneLineError(await berth(['image', 'export', 'nope', work]), /^Error: Image not found: "nope"$/);
      assertOneLineError(await berth(['image', 'alias', 'create', 'x', 'ffffffff']), /^Error: Image not found/);
      assertOneLineError(await berth(['image', 'alias', 'rename', 'tiny', 'split']), /^Error: Image alias "split" already exists$/);
      assertOneLineError(await berth(['image', 'alias', 'delete', 'nope']), /^Error: Image alias not found: "nope"$/);
      assertOneLineError(await berth(['image', 'edit', 'split'], 'public: maybe\n'), /^Error: invalid image: public must be true or false$/);
      assert.deepEqual(await snapshot(), before);
      await ok(['image', 'delete', twin.unifiedFingerprint]);
    });

    it('refuses a recipe berth image build cannot build, naming the file and the field, and leaves nothing', async () => {
      await mkdir(join(work, 'bad'));
      await writeFile(join(work, 'bad', 'recipe.yaml'), 'description: bad\nsource: {suite: bookworm}\nfiles:\n  - path: relative\n    content: x\n');
      await mkdir(join(work, 'good'));
      await writeFile(join(work, 'good', 'recipe.yaml'), 'description: good\nsource: {suite: bookworm}\n');
      await mkdir(join(work, 'outside'));
      await writeFile(join(work, 'outside', 'recipe.yaml'), 'description: missing file\nsource: {recipe: ../good}\nfiles:\n  - path: /a\n    source: not-there\n');
      const before = await snapshot();
      const file = (name: string) => join(work, name, 'recipe.yaml').replace(/[.]/g, '\\.');
      assertOneLineError(await berth(['image', 'build', 'bad']), new RegExp(`^Error: ${file('bad')}: files\\[0\\]\\.path: "relative" must be an absolute path`));
      assertOneLineError(
        await berth(['image', 'build', 'outside/recipe.yaml', '--alias', 'never']),
        new RegExp(`^Error: ${file('outside')}: files\\[0\\]\\.source: not-there: ENOENT: no such file or directory, open '${join(work, 'outside', 'not-there')}'$`),
      );
      assert.deepEqual(await snapshot(), before, 'no image, alias or file, and no extracted recipe left in $BERTH_DIR/images');
    });

    it('fails an export to a directory that does not exist, and writes nothing', async () => {
      const target = join(work, 'missing', 'image.tar.gz');
      assertOneLineError(await berth(['image', 'export', 'tiny', target]), new RegExp(`^Error: cannot write ${target}: no such file or directory$`));
      assert.equal(existsSync(join(work, 'missing')), false);
    });

    it('replaces an existing file only with a complete, verified export', async () => {
      const target = join(work, 'existing.tar.gz');
      await writeFile(target, 'old content');
      await ok(['image', 'export', 'tiny', target]);
      assert.equal(sha256(await readFile(target)), img.unifiedFingerprint);
      assert.deepEqual((await readdir(work)).filter((name) => name.endsWith('.part')), []);
    });
  });

  it('deletes images by alias and by fingerprint, with their aliases', async () => {
    assert.equal(await ok(['image', 'delete', 'tiny/base', split.splitFingerprint]), '');
    await d.api().get(`/1.0/images/${img.unifiedFingerprint}`).expect(404);
    await d.api().get(`/1.0/images/${split.splitFingerprint}`).expect(404);
    assert.equal(await ok(['image', 'list', '--format', 'csv']), '');
    assert.equal(await ok(['image', 'alias', 'list', '--format', 'csv']), '');
    assert.deepEqual((await snapshot()).rows, []);
  });
});
