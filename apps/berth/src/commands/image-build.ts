// berth image build <recipe> [--alias A]: berthd builds the recipe's tree, packs an LXD unified image and imports it.
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { buildImage } from '../images-client.js';
import { collect } from '../options.js';

export function registerImageBuildCommand(image: Command, cli: Cli): void {
  image
    .command('build')
    .description('Build an image from a recipe (a directory holding recipe.yaml, such as images/debian-12) and import it')
    .argument('<recipe>')
    .option('--alias <alias>', 'an alias for the image (repeatable)', collect, [])
    .action(async (recipe: string, options: { alias: string[] }) => {
      const result = await buildImage(cli, recipe, options.alias, (line) => cli.warn(line));
      cli.print(`${result.already_imported ? 'Image already imported' : 'Image imported'} with fingerprint: ${result.fingerprint}`);
    });
}
