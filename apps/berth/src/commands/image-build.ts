// berth image build <recipe> [--alias A]: builds the recipe's tree, packs an LXD unified image, imports it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import type { Image } from '../api.js';
import type { Cli } from '../cli.js';
import { ApiError } from '../client.js';
import { UsageError } from '../errors.js';
import { importImage, resolveImage } from '../images-client.js';
import { collect } from '../options.js';

/**
 * The recipe (a directory holding recipe.yaml, or the file) as a unified LXD image tarball:
 * its tree built (debootstrap, apt, files, units, commands) and packed, both cached under
 * /var/cache/berth, so the same recipe always gives the same fingerprint. The image library is
 * loaded only here: no other command pays for it.
 */
export async function packImage(recipe: string, log: (line: string) => void): Promise<string> {
  const images = await import('#images');
  try {
    const parsed = await images.loadRecipe(recipe);
    log(`Building ${parsed.name} from ${parsed.file} (cached after the first build)`);
    return await images.packRecipeImage(parsed, { log });
  } catch (err) {
    if (err instanceof images.InvalidRecipeError) throw new UsageError(err.message);
    throw err;
  }
}

export function registerImageBuildCommand(image: Command, cli: Cli): void {
  image
    .command('build')
    .description('Build an image from a recipe (a directory holding recipe.yaml, such as images/debian-12) and import it')
    .argument('<recipe>')
    .option('--alias <alias>', 'an alias for the image (repeatable)', collect, [])
    .action(async (recipe: string, options: { alias: string[] }) => {
      const tarball = await packImage(recipe, (line) => cli.warn(line));
      try {
        const fingerprint = await importImage(cli, [tarball], { alias: options.alias, public: false, property: {} });
        cli.print(`Image imported with fingerprint: ${fingerprint}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409)) throw err;
        const hash = createHash('sha256');
        for await (const chunk of createReadStream(tarball)) hash.update(chunk as Buffer);
        const fingerprint = hash.digest('hex');
        const existing: Image = await resolveImage(cli, fingerprint);
        for (const alias of options.alias.filter((a) => !existing.aliases.some((e) => e.name === a))) {
          await cli.client.send('POST', '/1.0/images/aliases', { name: alias, target: fingerprint });
        }
        cli.print(`Image already imported with fingerprint: ${fingerprint}`);
      }
    });
}
