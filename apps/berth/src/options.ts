// Parsers of repeatable command-line options, shared by every command group.
import { InvalidArgumentError } from 'commander';
import type { ConfigMap } from './api.js';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A repeatable `key=value` option (`--property`, `-c`). */
export function collectKeyValue(value: string, previous: ConfigMap): ConfigMap {
  const separator = value.indexOf('=');
  if (separator <= 0) throw new InvalidArgumentError('expected <key>=<value>');
  return { ...previous, [value.slice(0, separator)]: value.slice(separator + 1) };
}
