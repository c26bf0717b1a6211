// berth publish <instance> [--alias A] [--public] [key=value...]: a stopped instance becomes an image.
import type { Command } from 'commander';
import type { Cli } from '../cli.js';
import { UsageError } from '../errors.js';
import { collect } from '../options.js';

interface PublishOptions {
  alias: string[];
  public: boolean;
}

/** `key=value` arguments as image properties (lxc publish takes them the same way). */
export function publishProperties(pairs: readonly string[]): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    if (separator <= 0) throw new UsageError(`expected <key>=<value>, got "${pair}"`);
    properties[pair.slice(0, separator)] = pair.slice(separator + 1);
  }
  return properties;
}

export function registerPublishCommand(program: Command, cli: Cli): void {
  program
    .command('publish')
    .description('Make an image of a stopped instance: berth publish <instance> [--alias A] [--public] [key=value...]')
    .argument('<instance>')
    .argument('[properties...]', 'image properties as key=value')
    .option('--alias <alias>', 'an alias for the new image (repeatable)', collect, [])
    .option('--public', 'make the image available to unauthenticated clients', false)
    .action(async (instance: string, pairs: string[], options: PublishOptions) => {
      const body = {
        source: { type: 'instance', name: instance },
        aliases: options.alias.map((name) => ({ name, description: '' })),
        properties: publishProperties(pairs),
        public: options.public,
      };
      const result = await cli.client.send<{ fingerprint: string }>('POST', '/1.0/images', body);
      cli.print(`Instance published with fingerprint: ${result.fingerprint}`);
    });
}
