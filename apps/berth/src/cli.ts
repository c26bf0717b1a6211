// What every command group is handed: the API client, the environment, and where output goes.
import { Option } from 'commander';
import type { BerthClient } from './client.js';
import type { CliEnvironment } from './environment.js';
import { OUTPUT_FORMATS, type OutputFormat } from './format.js';

export interface Cli {
  client: BerthClient;
  environment: CliEnvironment;
  /** Print on standard output, followed by a newline. */
  print(text: string): void;
  /** Print a message for the user on standard error, followed by a newline. */
  warn(text: string): void;
}

export function formatOption(defaultFormat: OutputFormat): Option {
  return new Option('-f, --format <format>', 'output format')
    .choices(OUTPUT_FORMATS)
    .default(defaultFormat);
}

export interface FormatOptions {
  format: OutputFormat;
}

/** A path segment for a user-given name, so that "a/b" or ".." stays one segment. */
export const segment = (name: string): string =>
  encodeURIComponent(name).replaceAll('.', '%2E');
