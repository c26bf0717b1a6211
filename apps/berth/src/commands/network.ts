// berth network list|create|show|delete|list-leases
import type { Command } from 'commander';
import { formatOption, segment, type Cli, type FormatOptions } from '../cli.js';
import { UsageError } from '../errors.js';
import { renderDocument, renderList, type Column } from '../format.js';

interface Network {
  name: string;
  description: string;
  type: string;
  managed: boolean;
  status: string;
  config: Record<string, string>;
  used_by: string[];
}

interface Lease {
  hostname: string;
  hwaddr: string;
  address: string;
  type: string;
}

const networkPath = (name: string) => `/1.0/networks/${segment(name)}`;

const NETWORK_COLUMNS: readonly Column<Network>[] = [
  { header: 'NAME', value: (n) => n.name },
  { header: 'TYPE', value: (n) => n.type },
  { header: 'MANAGED', value: (n) => (n.managed ? 'YES' : 'NO') },
  { header: 'IPV4', value: (n) => n.config['ipv4.address'] ?? '' },
  { header: 'DESCRIPTION', value: (n) => n.description },
  { header: 'USED BY', value: (n) => String(n.used_by.length) },
  { header: 'STATE', value: (n) => n.status.toUpperCase() },
];

const LEASE_COLUMNS: readonly Column<Lease>[] = [
  { header: 'HOSTNAME', value: (l) => l.hostname },
  { header: 'MAC ADDRESS', value: (l) => l.hwaddr },
  { header: 'IP ADDRESS', value: (l) => l.address },
  { header: 'TYPE', value: (l) => l.type.toUpperCase() },
];

/** `key=value` pairs of `berth network create <name> ipv4.address=auto ...`. */
export function networkConfig(args: readonly string[]): Record<string, string> {
  const config: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid argument "${arg}": expected <key>=<value>`);
    config[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return config;
}

export function registerNetworkCommands(program: Command, cli: Cli): void {
  const network = program.command('network').description('Manage networks');

  network
    .command('list')
    .alias('ls')
    .description('List networks')
    .addOption(formatOption('table'))
    .action(async ({ format }: FormatOptions) => {
      cli.print(renderList(await cli.client.get<Network[]>('/1.0/networks?recursion=1'), NETWORK_COLUMNS, format));
    });

  network
    .command('create')
    .description('Create a managed bridge: berth network create <name> [key=value...] (ipv4.address=auto by default)')
    .argument('<name>')
    .argument('[config...]')
    .option('--description <text>', 'a description', '')
    .action(async (name: string, config: string[], { description }: { description: string }) => {
      await cli.client.send('POST', '/1.0/networks', { name, description, config: networkConfig(config) });
      cli.print(`Network ${name} created`);
    });

  network
    .command('show')
    .description('Show a network')
    .argument('<name>')
    .addOption(formatOption('yaml'))
    .action(async (name: string, { format }: FormatOptions) => {
      cli.print(renderDocument(await cli.client.get<Network>(networkPath(name)), format));
    });

  network
    .command('list-leases')
    .description('List the DHCP leases of a network')
    .argument('<name>')
    .addOption(formatOption('table'))
    .action(async (name: string, { format }: FormatOptions) => {
      cli.print(renderList(await cli.client.get<Lease[]>(`${networkPath(name)}/leases`), LEASE_COLUMNS, format));
    });

  network
    .command('delete')
    .alias('rm')
    .description('Delete a network (refused while instances use it)')
    .argument('<name>')
    .action(async (name: string) => {
      await cli.client.send('DELETE', networkPath(name));
      cli.print(`Network ${name} deleted`);
    });
}
