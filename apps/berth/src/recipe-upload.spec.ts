import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar-stream';
import { recipeTar, recipeUpload } from './recipe-upload.js';

describe('recipeUpload', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-recipe-upload-'));
    const write = async (file: string, content: string) => {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    };
    await write('images/base/recipe.yaml', 'description: base\nsource: {suite: bookworm}\n');
    await write('images/base/templates/hostname.tpl', '{{ container.name }}\n');
    await write('images/web/recipe.yaml', 'description: web\nsource: {recipe: ../base}\n');
    await write('images/web/app/index.php', '<?php echo 1;');
    await write('shared/motd', 'hello\n');
    await symlink(path.join(dir, 'shared'), path.join(dir, 'images/web/shared'));
    await symlink('.', path.join(dir, 'images/web/app/loop'));
    await write(`top/recipe.yaml`, `description: top\nsource: {recipe: ${path.join(dir, 'images/web')}}\n`);
    await write('broken/recipe.yaml', 'description: [unclosed\n');
    await write('self/recipe.yaml', 'description: self\nsource: {recipe: .}\n');
    await write('nest/recipe.yaml', 'description: nest\nsource: {recipe: inner}\n');
    await write('nest/inner/recipe.yaml', 'description: inner\nsource: {recipe: ../../images/base}\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const paths = (upload: Awaited<ReturnType<typeof recipeUpload>>) => upload.entries.map((e) => `${path.relative(dir, e.path)}${e.type === 'directory' ? '/' : ''}`);

  it('takes the recipe directory and those of the recipes it is based on, relative or absolute, each file once', async () => {
    const upload = await recipeUpload(path.join(dir, 'top'));
    assert.equal(upload.recipe, path.join(dir, 'top'));
    assert.equal(upload.file, path.join(dir, 'top/recipe.yaml'));
    assert.equal(upload.name, 'top');
    assert.deepEqual(paths(upload), [
      'images/base/',
      'images/base/recipe.yaml',
      'images/base/templates/',
      'images/base/templates/hostname.tpl',
      'images/web/',
      'images/web/app/',
      'images/web/app/index.php',
      'images/web/recipe.yaml',
      'images/web/shared/',
      'images/web/shared/motd',
      'top/',
      'top/recipe.yaml',
    ]);
  });

  it('takes a recipe file as given, and stops the chain at a recipe it cannot read, or at one already taken', async () => {
    const file = await recipeUpload(path.join(dir, 'images/web/recipe.yaml'));
    assert.equal(file.file, path.join(dir, 'images/web/recipe.yaml'));
    assert.equal(file.name, 'web');
    assert.deepEqual(paths(await recipeUpload(path.join(dir, 'broken'))), ['broken/', 'broken/recipe.yaml']);
    assert.deepEqual(paths(await recipeUpload(path.join(dir, 'self'))), ['self/', 'self/recipe.yaml']);
    assert.deepEqual(
      paths(await recipeUpload(path.join(dir, 'nest'))),
      ['images/base/', 'images/base/recipe.yaml', 'images/base/templates/', 'images/base/templates/hostname.tpl', 'nest/', 'nest/inner/', 'nest/inner/recipe.yaml', 'nest/recipe.yaml'],
      'a base inside the recipe directory is sent once, and its own base is followed',
    );
    assert.deepEqual(paths(await recipeUpload(path.join(dir, 'nowhere'))), [], 'berthd reports what is missing');
    await mkdir(path.join(dir, 'empty/sub'), { recursive: true });
    assert.deepEqual(paths(await recipeUpload(path.join(dir, 'empty'))), ['empty/'], 'a directory without recipe.yaml is sent empty');
  });

  it('packs a plain tar named by the absolute paths without their leading /', async () => {
    const upload = await recipeUpload(path.join(dir, 'images/web'));
    const seen: Array<[string, string, string]> = [];
    const parser = extract();
    const done = (async () => {
      for await (const entry of parser) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        seen.push([entry.header.name, entry.header.type ?? '', Buffer.concat(chunks).toString()]);
      }
    })();
    for await (const chunk of recipeTar(upload.entries)) parser.write(chunk as Buffer);
    parser.end(undefined);
    await done;
    const prefix = dir.slice(1);
    assert.deepEqual(
      seen.filter(([, type]) => type === 'file').map(([name, , content]) => [name.slice(prefix.length), content]),
      [
        ['/images/base/recipe.yaml', 'description: base\nsource: {suite: bookworm}\n'],
        ['/images/base/templates/hostname.tpl', '{{ container.name }}\n'],
        ['/images/web/app/index.php', '<?php echo 1;'],
        ['/images/web/recipe.yaml', 'description: web\nsource: {recipe: ../base}\n'],
        ['/images/web/shared/motd', 'hello\n'],
      ],
    );
    assert.ok(seen.every(([name]) => name.startsWith(prefix) && !name.startsWith('/')));
  });
});
