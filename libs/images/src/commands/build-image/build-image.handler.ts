import { createReadStream } from 'node:fs';
import path from 'node:path';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { TestHooks, ValidationError } from '#core';
import { OperationRunner, type OperationContext, type OperationView } from '#operations';
import { InvalidRecipeError, RecipeBuildError } from '../../domain/image.errors.js';
import { ImageAliasCreatedEvent } from '../../events/image-events.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { fingerprintImageFiles } from '../../infrastructure/image-fingerprint.js';
import { ImageImporter } from '../../infrastructure/image-importer.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { RecipeArchives, type RecipeTree } from '../../infrastructure/recipe-archives.js';
import { RecipeImageBuilder } from '../../infrastructure/recipe-image-builder.js';
import type { Recipe } from '../../recipes/recipe.js';
import { BuildImageCommand, type BuildImageOptions } from './build-image.command.js';

/**
 * Extracts the uploaded recipes into a private directory and checks the recipe there (a mistake
 * is a 400 naming the file and the field, and nothing is left), then, in an operation: builds and
 * packs the image (each line of the build goes to the operation's metadata as `build_log`),
 * removes the upload, and imports the tarball as an upload is imported. An image already there is
 * not imported again: it gets the aliases it lacks, and the result says `already_imported`.
 */
@CommandHandler(BuildImageCommand)
export class BuildImageHandler implements ICommandHandler<BuildImageCommand> {
  constructor(
    private readonly archives: RecipeArchives,
    private readonly builder: RecipeImageBuilder,
    private readonly images: ImageRepository,
    private readonly files: ImageFileStore,
    private readonly importer: ImageImporter,
    private readonly operations: OperationRunner,
    private readonly events: EventBus,
    private readonly hooks: TestHooks,
  ) {}

  async execute({ body, options }: BuildImageCommand): Promise<OperationView> {
    const tree = await this.archives.extract(body);
    let recipe: Recipe;
    try {
      recipe = await this.builder.load(recipeFile(tree, options.recipe), tree.root);
    } catch (err) {
      await tree.remove();
      throw asUploaderSees(err, tree);
    }
    return this.operations.start({
      class: 'task',
      description: 'Building image',
      run: async (ctx) => {
        const log = buildLog(ctx);
        let tarball: string;
        try {
          await this.hooks.reach('image-build.extracted');
          tarball = await this.builder.pack(recipe, log.line);
        } catch (err) {
          throw asUploaderSees(err, tree);
        } finally {
          await tree.remove();
          await log.flushed();
        }
        return this.importBuilt(tarball, options, ctx);
      },
    });
  }

  private async importBuilt(tarball: string, options: BuildImageOptions, ctx: OperationContext) {
    const fingerprint = await fingerprintImageFiles({ kind: 'unified', path: tarball });
    if (await this.images.exists(fingerprint)) {
      await this.addMissingAliases(fingerprint, options.aliases);
      return { fingerprint, already_imported: true };
    }
    const upload = await this.files.receive(createReadStream(tarball), { kind: 'raw' });
    const imported = await this.importer.import(upload, { ...options, filename: options.filename || path.basename(tarball) }, ctx);
    return { ...imported, already_imported: false };
  }

  private async addMissingAliases(fingerprint: string, aliases: BuildImageOptions['aliases']): Promise<void> {
    const image = await this.images.resolve(fingerprint);
    const existing = new Set((await this.images.view(image)).aliases.map((alias) => alias.name));
    for (const alias of aliases.filter((a) => !existing.has(a.name))) {
      await this.images.createAlias(alias.name, image.id, alias.description);
      this.events.publish(new ImageAliasCreatedEvent(alias.name));
    }
  }
}

/** The recipe's path inside the tree; a path that would lead out of it is refused. */
function recipeFile(tree: RecipeTree, recipe: string): string {
  const file = path.join(tree.root, recipe);
  if (!path.isAbsolute(recipe) || path.relative(tree.root, file).split(path.sep)[0] === '..' || file === tree.root) {
    throw new ValidationError('recipe', `${JSON.stringify(recipe)} must be the absolute path of a recipe in the upload`);
  }
  return file;
}

/** Recipe errors as the client wrote its files: paths in the tree become the paths it sent. */
function asUploaderSees(err: unknown, tree: RecipeTree): unknown {
  const sent = (text: string) => text.replaceAll(tree.root, '');
  if (err instanceof InvalidRecipeError) return new InvalidRecipeError(sent(err.file), err.field, sent(err.reason));
  if (err instanceof RecipeBuildError) return new RecipeBuildError(sent(err.recipe), err.step, sent(err.reason));
  return err;
}

/**
 * The build's lines as the operation's metadata, one `{build_log: line}` after the other, in
 * order: /1.0/events listeners (berth image build) see each line as it comes.
 */
function buildLog(ctx: OperationContext) {
  let last = Promise.resolve();
  return {
    line: (line: string) => {
      last = last.then(() => ctx.progress({ build_log: line })).catch(() => undefined);
    },
    flushed: () => last,
  };
}
