// berth network list|create|show|edit|set|unset|info|rename|delete|list-leases
import type { Command } from 'commander';
import type { ConfigMap } from '../api.js';
import { formatOption, segment, type Cli, type FormatOptions } from '../cli.js';
import { applyConfigChanges, parseConfigArguments } from '../config-args.js';
import { editUntilAccepted, readStdin } from '../editor.js';
import { UsageError } from '../errors.js';
import { formatSize, renderDocument, renderList, renderYaml, type Column } from '../format.js';
import { parseYamlMapping, readString, readStringMap } from '../yaml-input.js';

export interface Network {
  name: string;
  description: string;
  type: string;
  managed: boolean;
  status: string;
  config: Record<string, string>;
  used_by: string[];
}

/** The body of `PUT /1.0/networks/{name}`. */
export interface NetworkPut {
  description: string;
  config: ConfigMap;
}

/** LXD's api.NetworkState. */
export interface NetworkState {
  addresses: Array<{ family: string; address: string; netmask: string; scope: string }>;
  counters: { bytes_received: number; bytes_sent: number; packets_received: number; packets_sent: number };
  hwaddr: string;
  mtu: number;
  state: string;
  type: string;
  bridge?: { id: string; stp: boolean; forward_delay: number; vlan_default: number; vlan_filtering: boolean; upper_devices: string[] } | null;
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

const sortedByKey = (map: ConfigMap): ConfigMap => Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** What `network show` prints and `network edit` opens: LXD's field order, config keys sorted. */
export function networkDocument(network: Network): Network {
  return {
    name: network.name,
    description: network.description,
    type: network.type,
    managed: network.managed,
    status: network.status,
    config: sortedByKey(network.config ?? {}),
    used_by: network.used_by ?? [],
  };
}

export const NETWORK_EDIT_HEADER = [
  '### This is a YAML representation of the network.',
  '### Any line starting with a # is ignored.',
  '###',
  '### A network has the following format:',
  '### name: berthbr0',
  '### description: Default Berth network',
  '### config:',
  '###   ipv4.address: 10.148.12.1/24',
  '###   ipv4.nat: "true"',
  '###',
  '### Only description and config can be changed; use "berth network rename" to rename.',
].join('\n');

const NETWORK_READ_ONLY = new Set(['name', 'type', 'managed', 'status', 'used_by', 'locations']);

/** Reads an edited network: the body of `PUT /1.0/networks/{name}`. The name may stay but not change. */
export function parseNetworkYaml(text: string, networkName: string): NetworkPut {
  const document = parseYamlMapping(text, 'network', 'description and config');
  for (const field of Object.keys(document)) {
    if (field !== 'description' && field !== 'config' && !NETWORK_READ_ONLY.has(field)) throw new UsageError(`invalid network: unknown field "${field}"`);
  }
  if (document.name !== undefined && document.name !== networkName) {
    throw new UsageError(`invalid network: the name cannot be changed here (use "berth network rename ${networkName} <new>")`);
  }
  return { description: readString(document.description, 'network', 'description'), config: readStringMap(document.config, 'network', 'config') };
}

/** `berth network info`: the bridge's state as lxc prints it. */
export function renderNetworkInfo(name: string, state: NetworkState): string {
  const lines = [
    `Name: ${name}`,
    `MAC address: ${state.hwaddr}`,
    `MTU: ${state.mtu}`,
    `State: ${state.state}`,
    `Type: ${state.type}`,
    '',
    'IP addresses:',
    ...state.addresses.map((a) => `  ${a.family}\t${a.address}/${a.netmask} (${a.scope})`),
    '',
    'Network usage:',
    `  Bytes received: ${formatSize(state.counters.bytes_received)}`,
    `  Bytes sent: ${formatSize(state.counters.bytes_sent)}`,
    `  Packets received: ${state.counters.packets_received}`,
    `  Packets sent: ${state.counters.packets_sent}`,
  ];
  if (state.bridge) {
    lines.push(
      '',
      'Bridge:',
      `  ID: ${state.bridge.id}`,
      `  STP: ${state.bridge.stp}`,
      `  Forward delay: ${state.bridge.forward_delay}`,
      `  Default VLAN ID: ${state.bridge.vlan_default}`,
      `  VLAN filtering: ${state.bridge.vlan_filtering}`,
      `  Upper devices: ${state.bridge.upper_devices.join(', ')}`,
    );
  }
  return lines.join('\n');
}

async function fetchNetwork(cli: Cli, name: string): Promise<{ network: Network; etag: string | undefined }> {
  const { envelope, headers } = await cli.client.request<Network>('GET', networkPath(name));
  return { network: envelope.metadata, etag: headers.etag };
}

/** Replaces a network's writable fields, guarded by the ETag it was read with. */
async function putNetwork(cli: Cli, name: string, body: NetworkPut, etag?: string): Promise<void> {
  await cli.client.send('PUT', networkPath(name), body, etag ? { 'If-Match': etag } : {});
}

const writable = (network: Network): NetworkPut => ({ description: network.description, config: network.config ?? {} });

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
      cli.print(renderDocument(networkDocument(await cli.client.get<Network>(networkPath(name))), format));
    });

  network
    .command('info')
    .description('Show the runtime state of a network: addresses, counters, bridge')
    .argument('<name>')
    .addOption(formatOption('table'))
    .action(async (name: string, { format }: FormatOptions) => {
      const state = await cli.client.get<NetworkState>(`${networkPath(name)}/state`);
      cli.print(format === 'table' ? renderNetworkInfo(name, state) : renderDocument(state, format));
    });

  network
    .command('edit')
    .description('Edit a network as YAML in $EDITOR, or replace it with YAML read from standard input')
    .argument('<name>')
    .action(async (name: string) => {
      if (!cli.environment.interactive) {
        await putNetwork(cli, name, parseNetworkYaml(await readStdin(), name));
        return;
      }
      const { network, etag } = await fetchNetwork(cli, name);
      const text = `${NETWORK_EDIT_HEADER}\n${renderYaml(networkDocument(network))}\n`;
      await editUntilAccepted(cli.environment.editor, text, `${name}.yaml`, (edited) => putNetwork(cli, name, parseNetworkYaml(edited, name), etag));
    });

  network
    .command('set')
    .description('Set network config keys: <key>=<value>... or <key> <value> (an empty value unsets)')
    .argument('<name>')
    .argument('<config...>', '<key>=<value>... or <key> <value>')
    .action(async (name: string, args: string[]) => {
      const changes = parseConfigArguments(args);
      const { network, etag } = await fetchNetwork(cli, name);
      const body = writable(network);
      await putNetwork(cli, name, { ...body, config: applyConfigChanges(body.config, changes) }, etag);
    });

  network
    .command('unset')
    .description('Unset a network config key')
    .argument('<name>')
    .argument('<key>')
    .action(async (name: string, key: string) => {
      const { network, etag } = await fetchNetwork(cli, name);
      const body = writable(network);
      if (!Object.hasOwn(body.config, key)) throw new UsageError(`key "${key}" is not set on network "${name}"`);
      await putNetwork(cli, name, { ...body, config: applyConfigChanges(body.config, { [key]: '' }) }, etag);
    });

  network
    .command('rename')
    .alias('mv')
    .description('Rename a network (refused while instances or profiles use it)')
    .argument('<name>')
    .argument('<new-name>')
    .action(async (name: string, newName: string) => {
      await cli.client.send('POST', networkPath(name), { name: newName });
      cli.print(`Network ${name} renamed to ${newName}`);
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
