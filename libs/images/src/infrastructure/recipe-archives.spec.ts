import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '#core';
import { resolveExtractionLimits } from '../domain/extraction-limits.js';
import { ArchiveLimitExceededError, CorruptArchiveError, UnsafeArchiveError } from '../domain/image.errors.js';
import { blocks, END_OF_ARCHIVE, packTar, rawHeader, type CraftedEntry } from '../testing/crafted-archives.js';
import { RecipeArchives } from './recipe-archives.js';

describe('RecipeArchives.extract (a recipe upload, hostile until proven otherwise)', () => {
  let berthDir: string;
  let archives: RecipeArchives;
  const leftovers = async () => (await readdir(join(berthDir, 'images'))).filter((name) => name.startsWith('.recipe-'));

  before(async () => {
    berthDir = await mkdtemp(join(tmpdir(), 'berth-recipe-archives-'));
    archives = new RecipeArchives(loadConfig({ BERTH_DIR: berthDir }));
  });
  after(async () => {
    await rm(berthDir, { recursive: true, force: true });
  });

  async function refused(tar: Buffer, check: (err: unknown) => boolean, limits?: Parameters<RecipeArchives['extract']>[1]) {
    const body = Readable.from([tar]);
    await assert.rejects(archives.extract(body, limits), (err: unknown) => check(err) || assert.fail(String(err)));
    assert.equal(body.destroyed, true, 'the body is destroyed, so the edge drops the rest');
    assert.deepEqual(await leftovers(), [], 'nothing of the upload is left');
  }
  const unsafe = (entry: string, reason: RegExp) => (err: unknown) => err instanceof UnsafeArchiveError && err.entry === entry && reason.test(err.reason);

  it('writes regular files and directories under a fresh private directory, removed by remove()', async () => {
    const tar = await packTar([
      { name: 'work/images/web/', type: 'directory' },
      { name: 'work/images/web/recipe.yaml', content: 'description: web\n' },
      { name: './work/images/web/app/index.php', content: '<?php echo 1;' },
      { name: 'work/images/base/recipe.yaml', content: 'description: base\n' },
      { name: 'work/images/web/app/', type: 'directory' },
    ]);
    const tree = await archives.extract(Readable.from([tar]));
    assert.match(tree.root, new RegExp(`^${join(berthDir, 'images')}/\\.recipe-[0-9a-f-]{36}$`));
    assert.equal((await lstat(tree.root)).mode & 0o777, 0o700);
    assert.equal(await readFile(join(tree.root, 'work/images/web/app/index.php'), 'utf8'), '<?php echo 1;');
    assert.equal(await readFile(join(tree.root, 'work/images/base/recipe.yaml'), 'utf8'), 'description: base\n');
    assert.equal((await lstat(join(tree.root, 'work/images/web/recipe.yaml'))).mode & 0o777, 0o600);
    await tree.remove();
    assert.deepEqual(await leftovers(), []);
  });

  for (const [what, entry] of [
    ['a symlink', { name: 'r/recipe.yaml', type: 'symlink', linkname: '/etc/shadow' }],
    ['a hard link', { name: 'r/copy', type: 'link', linkname: 'r/recipe.yaml' }],
    ['a character device', { name: 'r/null', type: 'character-device', devmajor: 1, devminor: 3 }],
    ['a FIFO', { name: 'r/pipe', type: 'fifo' }],
  ] as [string, CraftedEntry][]) {
    it(`refuses ${what}`, async () => {
      const tar = await packTar([{ name: 'r/recipe.yaml', content: 'x' }, entry]);
      await refused(tar, unsafe(entry.name, /only regular files and directories/));
    });
  }

  for (const [name, reason] of [
    ['../escape', /"\.\." component/],
    ['r/../../escape', /"\.\." component/],
    ['/etc/cron.d/x', /absolute/],
    ['r//x', /empty component/],
    ['r/./x', /"\." component/],
  ] as [string, RegExp][]) {
    it(`refuses the name ${JSON.stringify(name)}`, async () => {
      const tar = Buffer.concat([rawHeader({ name, typeflag: '0', size: 1 }), blocks(Buffer.from('x')), END_OF_ARCHIVE]);
      await refused(tar, unsafe(name, reason));
    });
  }

  it('refuses a path given twice, and a file used as a directory', async () => {
    await refused(await packTar([{ name: 'r/a', content: '1' }, { name: 'r/a', content: '2' }]), unsafe('r/a', /duplicate entry/));
    await refused(await packTar([{ name: 'r/a', content: '1' }, { name: 'r/a/b', content: '2' }]), unsafe('r/a/b', /parent r\/a is a file/));
  });

  it('stops at the size and entry caps, before writing past them', async () => {
    const limits = resolveExtractionLimits({ maxTotalBytes: 64 * 1024, maxEntries: 3 });
    await refused(await packTar([{ name: 'big', content: Buffer.alloc(100 * 1024) }]), (e) => e instanceof ArchiveLimitExceededError && e.limit === 'maxTotalBytes', limits);
    const many = await packTar(['a', 'b', 'c', 'd'].map((name) => ({ name, content: name })));
    await refused(many, (e) => e instanceof ArchiveLimitExceededError && e.limit === 'maxEntries', limits);
  });

  it('refuses a truncated archive', async () => {
    const tar = await packTar([{ name: 'r/recipe.yaml', content: Buffer.alloc(4096, 1) }]);
    await refused(tar.subarray(0, 1024), (e) => e instanceof CorruptArchiveError);
  });

  it('refuses a body that fails midway (the client went away), leaving nothing', async () => {
    const tar = await packTar([{ name: 'r/recipe.yaml', content: Buffer.alloc(64 * 1024, 1) }]);
    const body = new PassThrough();
    body.write(tar.subarray(0, 2048), () => setImmediate(() => body.destroy(new Error('the upload was interrupted'))));
    await assert.rejects(archives.extract(body), /interrupted/);
    assert.deepEqual(await leftovers(), []);
  });
});
