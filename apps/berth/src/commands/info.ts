// berth info
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ServerInfo } from '../api.js';
import type { Cli } from '../cli.js';
import { OUTPUT_FORMATS, renderDocument, type OutputFormat } from '../format.js';

const joinPresent = (...parts: (string | undefined)[]) =>
  parts.filter((part): part is string => Boolean(part)).join(' ');

/** The server as a person reads it: one labelled line per fact the server reports. */
export function renderServerSummary(info: ServerInfo): string {
  const env = info.environment ?? {};
  const database = env.database;
  const lines: [string, string][] = [
    ['Server', joinPresent(env.server, env.server_version, env.server_pid ? `(pid ${env.server_pid})` : undefined)],
    ['Server name', env.server_name ?? ''],
    ['API', joinPresent(info.api_version, info.api_status && `(${info.api_status})`)],
    ['Auth', joinPresent(info.auth, info.auth_methods?.length ? `via ${info.auth_methods.join(', ')}` : undefined)],
    ['Kernel', joinPresent(env.kernel, env.kernel_version, env.kernel_architecture && `(${env.kernel_architecture})`)],
    ['Architectures', (env.architectures ?? []).join(', ')],
    ['OS', joinPresent(env.os_name, env.os_version)],
    ['Storage', joinPresent(env.storage, env.storage_version)],
    ['Driver', joinPresent(env.driver, env.driver_version)],
    ['Firewall', env.firewall ?? ''],
    [
      'Database',
      database
        ? joinPresent(database.type, database.version, database.embedded === undefined ? undefined : database.embedded ? '(embedded)' : '(external)')
        : '',
    ],
    ['API extensions', String(info.api_extensions?.length ?? 0)],
  ];
  const shown = lines.filter(([, value]) => value !== '');
  const width = Math.max(...shown.map(([label]) => label.length)) + 1;
  return shown.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`).join('\n');
}

export function registerInfoCommand(program: Command, cli: Cli): void {
  program
    .command('info')
    .description('Show information about the server')
    .addOption(
      new Option('-f, --format <format>', 'output format (default: a summary)').choices(OUTPUT_FORMATS),
    )
    .action(async ({ format }: { format?: OutputFormat }) => {
      const info = await cli.client.get<ServerInfo>('/1.0');
      cli.print(format ? renderDocument(info, format) : renderServerSummary(info));
    });
}
