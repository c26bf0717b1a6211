// berth list|init|delete|rename, berth config show|set|unset|edit, berth config device
// add|set|remove|show, and berth profile assign|add|remove (which act on an instance).
import type { Command } from 'commander';
import type { ConfigMap, DeviceMap, Instance, InstanceFull, InstancePut, InstancesPost } from '../api.js';
import { formatOption, segment, type Cli, type FormatOptions } from '../cli.js';
import { applyConfigChanges, parseConfigArguments } from '../config-args.js';
import { editUntilAccepted, readStdin } from '../editor.js';
import { UsageError } from '../errors.js';
import { renderDocument, renderList, renderYaml, type Column } from '../format.js';
import { resolveImage } from '../images-client.js';
import { collect, collectKeyValue } from '../options.js';
import { isMapping, parseYamlMapping, readBoolean, readString, readStringList, readStringMap } from '../yaml-input.js';

const INSTANCES = '/1.0/instances';
const instancePath = (name: string) => `${INSTANCES}/${segment(name)}`;

// ---- berth list ----

/** Fields of an instance that a `key=value` filter names directly; any other key is a config key. */
const INSTANCE_FIELDS = new Set([
  'name', 'description', 'status', 'status_code', 'type', 'architecture', 'ephemeral', 'stateful',
  'location', 'project', 'created_at', 'last_used_at',
]);
const PASSED_PREFIXES = ['config.', 'expanded_config.', 'devices.', 'expanded_devices.', 'state.'];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A value token of the filter language: quoted (with `\` escapes) only when it must be. */
export function filterValue(value: string): string {
  return value === '' || /[\s"]/.test(value) ? `"${value.replace(/[\\"]/g, '\\$&')}"` : value;
}

/**
 * lxc's reading of a name filter: the whole name matches it as a regular expression, or the name
 * starts with it as plain text (`web` lists web1 and web2). Written as one regular expression
 * for the server, which anchors nothing once the expression holds `^`.
 */
export function nameExpression(filter: string): string {
  if (filter.includes('^') || filter.includes('$')) return filter;
  const literal = escapeRegExp(filter);
  if (literal === filter) return `^${filter}`;
  try {
    new RegExp(filter);
  } catch {
    return `^${literal}`;
  }
  return `^(?:${filter})$|^${literal}`;
}

/**
 * `berth list` filters in the server's `filter=` language, as lxc sends them: a bare word is a
 * name, `key=value` compares an instance field (`status=running`), a config key
 * (`user.team=ops` is `config.user.team`), or a path given in full (`expanded_config.x=y`).
 * All must match; name clauses go first, and only `and` joins them.
 */
export function instanceFilter(filters: readonly string[]): string | undefined {
  const names: string[] = [];
  const fields: string[] = [];
  for (const filter of filters) {
    const separator = filter.indexOf('=');
    if (separator < 0) {
      if (filter.trim() === '') throw new UsageError('invalid filter "": expected a name or <key>=<value>');
      names.push(`name eq ${filterValue(nameExpression(filter))}`);
      continue;
    }
    const key = filter.slice(0, separator);
    if (key === '' || /[\s"]/.test(key)) throw new UsageError(`invalid filter "${filter}": expected <key>=<value>`);
    const field = INSTANCE_FIELDS.has(key) || PASSED_PREFIXES.some((prefix) => key.startsWith(prefix)) ? key : `config.${key}`;
    fields.push(`${field} eq ${filterValue(filter.slice(separator + 1))}`);
  }
  const clauses = [...names, ...fields];
  return clauses.length === 0 ? undefined : clauses.join(' and ');
}

/** Global addresses of one family (`inet`, `inet6`) as lxc's IPV4/IPV6 columns show them. */
export function addressCell(instance: InstanceFull, family: 'inet' | 'inet6'): string {
  const networks = instance.state?.network ?? {};
  const addresses = Object.entries(networks).flatMap(([device, network]) =>
    network.type === 'loopback'
      ? []
      : (network.addresses ?? [])
          .filter((address) => address.family === family && address.scope !== 'link' && address.scope !== 'local')
          .map((address) => `${address.address} (${device})`),
  );
  return addresses.sort().reverse().join('\n');
}

/** The time from init's start to systemd's READY=1 (`1.23s`), empty until then and for another init. */
export function readyCell(instance: InstanceFull): string {
  // boot (berth_instance_boot) and ready_ms (older daemons) are Berth's additions to LXD's InstanceState.
  const state = instance.state as { ready_ms?: number | null; boot?: { ready_ms: number | null } | null } | null | undefined;
  const ms = state?.boot ? state.boot.ready_ms : state?.ready_ms;
  return typeof ms === 'number' && instance.state?.status !== 'Stopped' ? `${(ms / 1000).toFixed(2)}s` : '';
}

/** The columns of `berth list -c`, by lxc's letters; `R` (the time to Ready) is Berth's own. */
export const LIST_COLUMNS: Readonly<Record<string, Column<InstanceFull>>> = {
  n: { header: 'NAME', value: (i) => i.name },
  s: { header: 'STATE', value: (i) => i.status.toUpperCase() },
  '4': { header: 'IPV4', value: (i) => addressCell(i, 'inet') },
  '6': { header: 'IPV6', value: (i) => addressCell(i, 'inet6') },
  t: { header: 'TYPE', value: (i) => `${(i.type || 'container').toUpperCase()}${i.ephemeral ? ' (EPHEMERAL)' : ''}` },
  S: { header: 'SNAPSHOTS', value: (i) => String(i.snapshots?.length ?? 0) },
  R: { header: 'READY', value: readyCell },
  p: { header: 'PID', value: (i) => (i.state?.pid ? String(i.state.pid) : '') },
  N: { header: 'PROCESSES', value: (i) => (i.state?.pid ? String(i.state.processes) : '') },
  P: { header: 'PROFILES', value: (i) => (i.profiles ?? []).join('\n') },
};
/** The letters of LIST_COLUMNS in their order (an object lists digit keys first). */
const COLUMN_LETTERS = 'ns46tSRpNP';
/** lxc's default columns. */
/** lxc's default columns, then the time to Ready (Berth's own). */
export const DEFAULT_LIST_COLUMNS = 'ns46tSR';

/** The columns of a `-c` value: one letter each, in order; an unknown letter is a usage error. */
export function listColumns(letters: string): Column<InstanceFull>[] {
  if (letters === '') throw new UsageError('no column given: -c takes letters such as ns4R');
  return [...letters].map((letter) => {
    const column = LIST_COLUMNS[letter];
    if (!column) throw new UsageError(`unknown column "${letter}": expected some of ${COLUMN_LETTERS}`);
    return column;
  });
}

export const INSTANCE_COLUMNS: readonly Column<InstanceFull>[] = listColumns(DEFAULT_LIST_COLUMNS);

// ---- berth init ----

export interface InitOptions {
  empty: boolean;
  profile: string[];
  /** false with --no-profiles. */
  profiles: boolean;
  config: ConfigMap;
  ephemeral: boolean;
}

/**
 * What `berth init` asks for: with --empty, `init <name>`; otherwise `init <image> <name>`.
 * Without -p the server applies the default profile; --no-profiles asks for none.
 */
export function initRequest(first: string | undefined, second: string | undefined, options: InitOptions): { name: string; image?: string } {
  if (options.profile.length > 0 && !options.profiles) throw new UsageError('--profile and --no-profiles cannot be used together');
  if (options.empty) {
    if (second !== undefined) throw new UsageError('--empty creates an instance without an image: berth init <name> --empty');
    if (first === undefined) throw new UsageError('missing the instance name: berth init <name> --empty');
    return { name: first };
  }
  if (first === undefined || second === undefined) {
    throw new UsageError('expected berth init <image> <name>, or berth init <name> --empty');
  }
  return { image: first, name: second };
}

export function initBody(name: string, source: InstancesPost['source'], options: InitOptions): InstancesPost {
  return {
    name,
    type: 'container',
    source,
    ...(options.profiles ? (options.profile.length > 0 ? { profiles: options.profile } : {}) : { profiles: [] }),
    config: options.config,
    devices: {},
    ephemeral: options.ephemeral,
  };
}

// ---- berth config ----

interface FetchedInstance {
  instance: Instance;
  etag: string | undefined;
}

async function fetchInstance(cli: Cli, name: string): Promise<FetchedInstance> {
  const { envelope, headers } = await cli.client.request<Instance>('GET', instancePath(name));
  return { instance: envelope.metadata, etag: headers.etag };
}

/** Replace an instance's writable fields, guarded by the ETag it was read with. */
async function putInstance(cli: Cli, name: string, body: InstancePut, etag?: string): Promise<void> {
  await cli.client.send('PUT', instancePath(name), body, etag ? { 'If-Match': etag } : {});
}

const isVolatile = (key: string) => key.startsWith('volatile.');

/** The server owns `volatile.*` keys: they are shown, but never sent back. */
export function writableInstance(instance: Instance): InstancePut {
  return {
    description: instance.description ?? '',
    config: Object.fromEntries(Object.entries(instance.config ?? {}).filter(([key]) => !isVolatile(key))),
    devices: instance.devices ?? {},
    profiles: instance.profiles ?? [],
    ephemeral: instance.ephemeral,
  };
}

/** Load, change and replace an instance under its ETag. */
async function changeInstance(cli: Cli, name: string, change: (put: InstancePut, instance: Instance) => InstancePut): Promise<void> {
  const { instance, etag } = await fetchInstance(cli, name);
  await putInstance(cli, name, change(writableInstance(instance), instance), etag);
}

function sortedByKey<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const sortedDevices = (devices: DeviceMap): DeviceMap =>
  sortedByKey(Object.fromEntries(Object.entries(devices).map(([name, device]) => [name, sortedByKey(device)])));

export interface InstanceDocument {
  name: string;
  architecture: string;
  config: ConfigMap;
  devices: DeviceMap;
  ephemeral: boolean;
  profiles: string[];
  stateful: boolean;
  description: string;
}

/** What `config show` prints and `config edit` opens, in lxc's order; keys sorted. */
export function instanceDocument(instance: Instance, expanded = false): InstanceDocument {
  return {
    name: instance.name,
    architecture: instance.architecture,
    config: sortedByKey((expanded ? instance.expanded_config : instance.config) ?? {}),
    devices: sortedDevices((expanded ? instance.expanded_devices : instance.devices) ?? {}),
    ephemeral: instance.ephemeral,
    profiles: instance.profiles ?? [],
    stateful: instance.stateful ?? false,
    description: instance.description ?? '',
  };
}

export const INSTANCE_EDIT_HEADER = [
  '### This is a YAML representation of the instance\'s configuration.',
  '### Any line starting with a # is ignored.',
  '###',
  '### A sample configuration looks like:',
  '### name: web1',
  '### profiles:',
  '### - default',
  '### config:',
  '###   limits.memory: 2GiB',
  '###   volatile.last_state.ready: "true"',
  '### devices:',
  '###   data:',
  '###     type: disk',
  '###     path: /srv',
  '###     source: /srv/web1',
  '### ephemeral: false',
  '###',
  '### name, architecture and stateful are shown for reference; use "berth rename" to rename.',
  '### volatile.* keys belong to the server and cannot be changed here.',
].join('\n');

const INSTANCE_WRITABLE = new Set(['description', 'config', 'devices', 'profiles', 'ephemeral']);
const INSTANCE_READ_ONLY = new Set(['name', 'architecture', 'stateful']);

/**
 * Read an edited instance: the body of `PUT /1.0/instances/{name}`. The read-only fields may stay
 * but not change; `volatile.*` keys left as they are are not sent back, so that the server
 * refuses only those the user changed or added.
 */
export function parseInstanceYaml(text: string, current: Instance): InstancePut {
  const what = 'instance';
  const document = parseYamlMapping(text, what, 'description, config, devices, profiles and ephemeral');
  for (const field of Object.keys(document)) {
    if (!INSTANCE_WRITABLE.has(field) && !INSTANCE_READ_ONLY.has(field)) {
      throw new UsageError(`invalid instance: unknown field "${field}"`);
    }
  }
  const unchanged: [string, unknown][] = [
    ['name', current.name],
    ['architecture', current.architecture],
    ['stateful', current.stateful ?? false],
  ];
  for (const [field, value] of unchanged) {
    if (document[field] !== undefined && document[field] !== value) {
      throw new UsageError(
        field === 'name'
          ? `invalid instance: the name cannot be changed here (use "berth rename ${current.name} <new>")`
          : `invalid instance: ${field} cannot be changed`,
      );
    }
  }
  const config = readStringMap(document.config, what, 'config');
  const currentConfig = current.config ?? {};
  return {
    description: readString(document.description, what, 'description'),
    config: Object.fromEntries(
      Object.entries(config).filter(([key, value]) => !(isVolatile(key) && currentConfig[key] === value)),
    ),
    devices: readDevices(document.devices),
    profiles: readStringList(document.profiles, what, 'profiles'),
    ephemeral: readBoolean(document.ephemeral, what, 'ephemeral'),
  };
}

function readDevices(value: unknown): DeviceMap {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new UsageError('invalid instance: devices must be a mapping of device names');
  return Object.fromEntries(
    Object.entries(value).map(([device, options]) => [device, readStringMap(options, 'instance', `devices.${device}`)]),
  );
}

/** Device options: every argument `key=value`, split at its first `=`. */
export function parseDeviceOptions(args: readonly string[]): ConfigMap {
  const options: ConfigMap = {};
  for (const arg of args) {
    const separator = arg.indexOf('=');
    if (separator <= 0) throw new UsageError(`invalid device option "${arg}": expected <key>=<value>`);
    options[arg.slice(0, separator)] = arg.slice(separator + 1);
  }
  return options;
}

/** Apply `config device set` to a device; an empty value removes the key, as with config. */
export function setDeviceOptions(device: ConfigMap, options: ConfigMap): ConfigMap {
  if (options.type === '') throw new UsageError('a device\'s type cannot be removed');
  return applyConfigChanges(device, options);
}

/** The profile list of `berth profile assign`: comma separated, empty for none. */
export function parseProfileList(value: string): string[] {
  if (value === '') return [];
  const names = value.split(',');
  if (names.some((name) => name.trim() === '')) throw new UsageError(`invalid profile list "${value}": empty profile name`);
  return names;
}

// ---- Commands ----

/** Creates an instance as `berth init` does; returns its name. `berth launch` starts it afterwards. */
export async function createInstance(cli: Cli, first: string | undefined, second: string | undefined, options: InitOptions): Promise<string> {
  const { name, image } = initRequest(first, second, options);
  const source: InstancesPost['source'] = image === undefined ? { type: 'none' } : { type: 'image', fingerprint: (await resolveImage(cli, image)).fingerprint };
  await cli.client.send('POST', INSTANCES, initBody(name, source, options));
  return name;
}

export function registerInstanceCommands(program: Command, cli: Cli): void {
  program
    .command('list')
    .alias('ls')
    .description('List instances; filters are a name (a prefix or regular expression) or <key>=<value>')
    .argument('[filters...]')
    .addOption(formatOption('table'))
    .option('-c, --columns <letters>', `columns, by lxc's letters: n name, s state, 4 IPv4, 6 IPv6, t type, S snapshots, p pid, N processes, P profiles, and R the time to Ready`, DEFAULT_LIST_COLUMNS)
    .action(async (filters: string[], { format, columns }: FormatOptions & { columns: string }) => {
      const shown = listColumns(columns);
      const filter = instanceFilter(filters);
      const query = filter === undefined ? '' : `&filter=${encodeURIComponent(filter)}`;
      const instances = await cli.client.get<InstanceFull[]>(`${INSTANCES}?recursion=2${query}`);
      const sorted = [...instances].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      cli.print(renderList(sorted, shown, format));
    });

  program
    .command('init')
    .description('Create an instance: berth init <image> <name>, or berth init <name> --empty')
    .argument('[image]', 'an image alias, fingerprint or fingerprint prefix (or the name, with --empty)')
    .argument('[name]')
    .option('--empty', 'create an instance with no image', false)
    .option('-p, --profile <profile>', 'a profile to apply, in order (repeatable; default: the default profile)', collect, [])
    .option('--no-profiles', 'apply no profile at all')
    .option('-c, --config <key=value>', 'a config key (repeatable)', collectKeyValue, {})
    .option('-e, --ephemeral', 'delete the instance when it stops', false)
    .action(async (first: string | undefined, second: string | undefined, options: InitOptions) => {
      const name = await createInstance(cli, first, second, options);
      cli.print(`Instance ${name} created`);
    });

  program
    .command('delete')
    .alias('rm')
    .description('Delete instances')
    .argument('<names...>')
    .action(async (names: string[]) => {
      for (const name of names) await cli.client.send('DELETE', instancePath(name));
    });

  program
    .command('rename')
    .alias('mv')
    .description('Rename an instance')
    .argument('<name>')
    .argument('<new-name>')
    .action(async (name: string, newName: string) => {
      await cli.client.send('POST', instancePath(name), { name: newName });
    });

  registerConfigCommands(program, cli);
  registerInstanceProfileCommands(program, cli);
}

function registerConfigCommands(program: Command, cli: Cli): void {
  const config = program.command('config').description('Manage instance configuration');

  config
    .command('show')
    .description('Show an instance\'s configuration')
    .argument('<name>')
    .option('-e, --expanded', 'show the configuration with its profiles applied', false)
    .addOption(formatOption('yaml'))
    .action(async (name: string, { expanded, format }: FormatOptions & { expanded: boolean }) => {
      const { instance } = await fetchInstance(cli, name);
      cli.print(renderDocument(instanceDocument(instance, expanded), format));
    });

  config
    .command('set')
    .description('Set instance config keys: <key>=<value>... or <key> <value> (an empty value unsets)')
    .argument('<name>')
    .argument('<config...>', '<key>=<value>... or <key> <value>')
    .action(async (name: string, args: string[]) => {
      const changes = parseConfigArguments(args);
      await changeInstance(cli, name, (put) => ({ ...put, config: applyConfigChanges(put.config, changes) }));
    });

  config
    .command('unset')
    .description('Unset an instance config key')
    .argument('<name>')
    .argument('<key>')
    .action(async (name: string, key: string) => {
      await changeInstance(cli, name, (put) => {
        if (!Object.hasOwn(put.config, key)) throw new UsageError(`key "${key}" is not set on instance "${name}"`);
        return { ...put, config: applyConfigChanges(put.config, { [key]: '' }) };
      });
    });

  config
    .command('edit')
    .description('Edit an instance\'s configuration as YAML in $EDITOR, or replace it with YAML read from standard input')
    .argument('<name>')
    .action(async (name: string) => {
      const { instance, etag } = await fetchInstance(cli, name);
      if (!cli.environment.interactive) {
        await putInstance(cli, name, parseInstanceYaml(await readStdin(), instance), etag);
        return;
      }
      const text = `${INSTANCE_EDIT_HEADER}\n${renderYaml(instanceDocument(instance))}\n`;
      await editUntilAccepted(cli.environment.editor, text, `${name}.yaml`, (edited) =>
        putInstance(cli, name, parseInstanceYaml(edited, instance), etag),
      );
    });

  registerDeviceCommands(config, cli);
}

function registerDeviceCommands(config: Command, cli: Cli): void {
  const device = config.command('device').description('Manage instance devices');

  device
    .command('add')
    .description('Add a device to an instance')
    .argument('<name>')
    .argument('<device>')
    .argument('<type>', 'disk, nic, proxy, unix-char, ...')
    .argument('[options...]', '<key>=<value>...')
    .action(async (name: string, deviceName: string, type: string, args: string[]) => {
      const options = parseDeviceOptions(args);
      if (options.type !== undefined && options.type !== type) {
        throw new UsageError(`the device type is given twice: "${type}" and type=${options.type}`);
      }
      await changeInstance(cli, name, (put) => {
        if (Object.hasOwn(put.devices, deviceName)) {
          throw new UsageError(`device "${deviceName}" already exists on instance "${name}"`);
        }
        return { ...put, devices: { ...put.devices, [deviceName]: { ...options, type } } };
      });
      cli.print(`Device ${deviceName} added to ${name}`);
    });

  device
    .command('set')
    .description('Set device options (an empty value unsets); a device of a profile is overridden locally')
    .argument('<name>')
    .argument('<device>')
    .argument('<options...>', '<key>=<value>...')
    .action(async (name: string, deviceName: string, args: string[]) => {
      const options = parseDeviceOptions(args);
      await changeInstance(cli, name, (put, instance) => {
        const current = put.devices[deviceName] ?? instance.expanded_devices?.[deviceName];
        if (!current) throw new UsageError(`device "${deviceName}" does not exist on instance "${name}"`);
        return { ...put, devices: { ...put.devices, [deviceName]: setDeviceOptions(current, options) } };
      });
    });

  device
    .command('remove')
    .alias('rm')
    .description('Remove devices from an instance')
    .argument('<name>')
    .argument('<devices...>')
    .action(async (name: string, deviceNames: string[]) => {
      await changeInstance(cli, name, (put, instance) => {
        const devices = { ...put.devices };
        for (const deviceName of deviceNames) {
          if (!Object.hasOwn(devices, deviceName)) {
            throw new UsageError(
              Object.hasOwn(instance.expanded_devices ?? {}, deviceName)
                ? `device "${deviceName}" comes from a profile of "${name}": override it with "berth config device set" or change the profile`
                : `device "${deviceName}" does not exist on instance "${name}"`,
            );
          }
          delete devices[deviceName];
        }
        return { ...put, devices };
      });
      for (const deviceName of deviceNames) cli.print(`Device ${deviceName} removed from ${name}`);
    });

  device
    .command('show')
    .description('Show an instance\'s own devices')
    .argument('<name>')
    .addOption(formatOption('yaml'))
    .action(async (name: string, { format }: FormatOptions) => {
      const { instance } = await fetchInstance(cli, name);
      cli.print(renderDocument(sortedDevices(instance.devices ?? {}), format));
    });
}

/** `profile assign|add|remove` act on an instance; they join the `profile` group of profile.ts. */
function registerInstanceProfileCommands(program: Command, cli: Cli): void {
  const profile = program.commands.find((command) => command.name() === 'profile');
  if (!profile) throw new Error('the profile commands must be registered before the instance commands');

  profile
    .command('assign')
    .description('Replace the profiles of an instance (comma separated, in order; "" for none)')
    .argument('<instance>')
    .argument('<profiles>')
    .action(async (name: string, list: string) => {
      const profiles = parseProfileList(list);
      await changeInstance(cli, name, (put) => ({ ...put, profiles }));
      cli.print(profiles.length > 0 ? `Profiles ${profiles.join(',')} applied to ${name}` : `All profiles removed from ${name}`);
    });

  profile
    .command('add')
    .description('Apply a profile to an instance, after those it has')
    .argument('<instance>')
    .argument('<profile>')
    .action(async (name: string, profileName: string) => {
      await changeInstance(cli, name, (put) => {
        if (put.profiles.includes(profileName)) {
          throw new UsageError(`profile "${profileName}" is already applied to "${name}"`);
        }
        return { ...put, profiles: [...put.profiles, profileName] };
      });
      cli.print(`Profile ${profileName} added to ${name}`);
    });

  profile
    .command('remove')
    .description('Stop applying a profile to an instance')
    .argument('<instance>')
    .argument('<profile>')
    .action(async (name: string, profileName: string) => {
      await changeInstance(cli, name, (put) => {
        if (!put.profiles.includes(profileName)) {
          throw new UsageError(`profile "${profileName}" is not applied to "${name}"`);
        }
        return { ...put, profiles: put.profiles.filter((p) => p !== profileName) };
      });
      cli.print(`Profile ${profileName} removed from ${name}`);
    });
}
