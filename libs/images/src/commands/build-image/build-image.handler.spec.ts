import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DomainError, loadConfig, TestHooks } from '#core';
import { InvalidRecipeError, RecipeBuildError } from '../../domain/image.errors.js';
import { ImageAliasCreatedEvent } from '../../events/image-events.js';
import { RecipeArchives } from '../../infrastructure/recipe-archives.js';
import type { RecipeImageBuilder } from '../../infrastructure/recipe-image-builder.js';
import type { Recipe } from '../../recipes/recipe.js';
import { packTar } from '../../testing/crafted-archives.js';
import { InMemoryImages, recordingEvents, recordingImporter, RecordingOperations, scratchImageFiles } from '../../testing/fakes.js';
import { BuildImageCommand, type BuildImageOptions } from './build-image.command.js';
import { BuildImageHandler } from './build-image.handler.js';

const RECIPE = '/work/images/web';
const OPTIONS: BuildImageOptions = { recipe: RECIPE, public: false, filename: '', properties: {}, aliases: [{ name: 'web', description: '' }] };

describe('BuildImageHandler', () => {
  let scratch: Awaited<ReturnType<typeof scratchImageFiles>>;
  let archives: RecipeArchives;
  let tarball: string;
  let fingerprint: string;

  before(async () => {
    scratch = await scratchImageFiles('berth-build-handler-');
    archives = new RecipeArchives(loadConfig({ BERTH_DIR: scratch.berthDir }));
    tarball = path.join(scratch.berthDir, 'web-0123456789abcdef.tar');
    await writeFile(tarball, 'the packed image');
    fingerprint = createHash('sha256').update('the packed image').digest('hex');
  });
  after(() => scratch.remove());

  const upload = async (recipeYaml = 'description: web\n') => Readable.from([await packTar([{ name: 'work/images/web/recipe.yaml', content: recipeYaml }])]);

  /**
   * The builder's port: load reads the recipe (a directory's recipe.yaml) from the extracted tree,
   * refusing one that says `bad` with tree paths in the message as the real loader would; pack
   * logs through `pack` and gives the tarball, or fails as a step does.
   */
  function fakeBuilder(pack: (recipe: Recipe, log: (line: string) => void) => Promise<string>) {
    const loaded: Array<{ given: string; root: string; text: string }> = [];
    const builder = {
      load: async (given: string, root: string) => {
        const file = (await stat(given)).isDirectory() ? path.join(given, 'recipe.yaml') : given;
        const text = await readFile(file, 'utf8');
        loaded.push({ given, root, text });
        if (text.includes('bad')) throw new InvalidRecipeError(file, 'source.recipe', `${path.join(root, 'work/images/base')} is not an image recipe`);
        return { name: path.basename(path.dirname(file)), file, dir: path.dirname(file), root } as Recipe;
      },
      pack,
    } as unknown as RecipeImageBuilder;
    return { builder, loaded };
  }
  const packing = async (recipe: Recipe, log: (line: string) => void) => {
    log(`[${recipe.name}] source`);
    log(`[${recipe.name}] commands[0]`);
    return tarball;
  };

  function setup(builder: RecipeImageBuilder, images = new InMemoryImages()) {
    const operations = new RecordingOperations();
    const events = recordingEvents();
    const { imported, importer } = recordingImporter(scratch.files, () => scratch.left());
    const handler = new BuildImageHandler(archives, builder, images.asRepository(), scratch.files, importer, operations.asRunner(), events.bus, TestHooks.off());
    return { images, operations, events, imported, handler };
  }

  it('checks the recipe in the extracted tree, then builds it in an operation, its lines as build_log, and imports the tarball as an upload', async () => {
    const { builder, loaded } = fakeBuilder(packing);
    const { operations, imported, handler } = setup(builder);
    const view = await handler.execute(new BuildImageCommand(await upload(), OPTIONS));
    assert.equal(view.class, 'task');
    assert.equal(view.description, 'Building image');
    assert.equal(loaded.length, 1);
    assert.match(loaded[0]!.root, new RegExp(`^${scratch.files.root}/\\.recipe-[0-9a-f-]{36}$`));
    assert.equal(loaded[0]!.given, path.join(loaded[0]!.root, RECIPE));
    assert.equal(loaded[0]!.text, 'description: web\n');
    assert.deepEqual(operations.progress.slice(0, 2), [{ build_log: '[web] source' }, { build_log: '[web] commands[0]' }]);
    assert.equal(operations.error, undefined);
    assert.equal(imported.length, 1);
    assert.equal(imported[0]!.upload.fingerprint, fingerprint);
    assert.deepEqual(imported[0]!.options, { ...OPTIONS, filename: 'web-0123456789abcdef.tar' });
    assert.deepEqual(imported[0]!.seen.filter((name) => name.startsWith('.recipe-')), [], 'the upload is removed once packed');
    assert.deepEqual(operations.result, { fingerprint, size: 16, warnings: [], already_imported: false });
    assert.deepEqual(await scratch.left(), []);
  });

  it('gives an image that is already there only the aliases it lacks, imports nothing, and says so', async () => {
    const images = new InMemoryImages();
    images.add(fingerprint, ['kept']);
    const { operations, events, imported, handler } = setup(fakeBuilder(packing).builder, images);
    await handler.execute(new BuildImageCommand(await upload(), { ...OPTIONS, aliases: [{ name: 'kept', description: '' }, { name: 'new', description: '' }] }));
    assert.deepEqual(operations.result, { fingerprint, already_imported: true });
    assert.deepEqual(images.aliasTargets(), { kept: fingerprint, new: fingerprint });
    assert.deepEqual(events.published, [new ImageAliasCreatedEvent('new')]);
    assert.deepEqual(imported, []);
    assert.deepEqual(await scratch.left(), []);
  });

  it('fails the operation when a requested alias names another image', async () => {
    const images = new InMemoryImages();
    images.add(fingerprint);
    images.add('f'.repeat(64), ['web']);
    const { operations, events, handler } = setup(fakeBuilder(packing).builder, images);
    await handler.execute(new BuildImageCommand(await upload(), OPTIONS));
    assert.ok(operations.error instanceof DomainError && operations.error.message === 'Image alias "web" already exists', String(operations.error));
    assert.deepEqual(events.published, []);
  });

  it('refuses a recipe mistake with a 400 naming the files as the client sent them, before any operation, leaving nothing', async () => {
    const { builder } = fakeBuilder(packing);
    const { operations, handler } = setup(builder);
    await assert.rejects(handler.execute(new BuildImageCommand(await upload('description: bad\n'), OPTIONS)), (e: unknown) => {
      assert.ok(e instanceof InvalidRecipeError);
      assert.equal(e.code, 'IMAGE.INVALID_RECIPE');
      assert.equal(e.message, '/work/images/web/recipe.yaml: source.recipe: /work/images/base is not an image recipe');
      assert.equal(e.file, '/work/images/web/recipe.yaml');
      return true;
    });
    assert.deepEqual(operations.started, []);
    assert.deepEqual(await scratch.left(), []);
  });

  it('refuses a hostile upload or a recipe path outside it before reading any recipe', async () => {
    const { builder, loaded } = fakeBuilder(packing);
    const { operations, handler } = setup(builder);
    const linked = Readable.from([await packTar([{ name: 'work/images/web/recipe.yaml', type: 'symlink', linkname: '/etc/shadow' }])]);
    await assert.rejects(handler.execute(new BuildImageCommand(linked, OPTIONS)), (e: unknown) => e instanceof DomainError && e.code === 'IMAGE.UNSAFE_ARCHIVE');
    await assert.rejects(handler.execute(new BuildImageCommand(await upload(), { ...OPTIONS, recipe: 'work/images/web' })), (e: unknown) => e instanceof DomainError && e.code === 'REQUEST.INVALID');
    await assert.rejects(handler.execute(new BuildImageCommand(await upload(), { ...OPTIONS, recipe: '/../../etc' })), (e: unknown) => e instanceof DomainError && e.code === 'REQUEST.INVALID');
    assert.deepEqual(loaded, []);
    assert.deepEqual(operations.started, []);
    assert.deepEqual(await scratch.left(), []);
  });

  it('fails the operation when a step fails, naming the client\'s paths, importing nothing and leaving nothing', async () => {
    const { builder } = fakeBuilder(async (recipe, log) => {
      log(`[${recipe.name}] commands[0]`);
      throw new RecipeBuildError(recipe.file, 'commands[0]', `sh exited with status 3 in ${recipe.dir}`);
    });
    const { operations, imported, handler } = setup(builder);
    await handler.execute(new BuildImageCommand(await upload(), OPTIONS));
    assert.ok(operations.error instanceof RecipeBuildError);
    assert.equal(operations.error.message, 'Building /work/images/web/recipe.yaml failed at commands[0]: sh exited with status 3 in /work/images/web');
    assert.deepEqual(operations.progress, [{ build_log: '[web] commands[0]' }]);
    assert.deepEqual(imported, []);
    assert.deepEqual(await scratch.left(), []);
  });
});
