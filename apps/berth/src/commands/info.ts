// berth info [<instance>] [--resources]
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Instance, InstanceState, ServerInfo } from '../api.js';
import { segment, type Cli } from '../cli.js';
import { formatInfoDate, formatSize, OUTPUT_FORMATS, renderDocument, type OutputFormat } from '../format.js';

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

/** The limits a running container's cgroup holds, as berthd reads them back (null: none). */
export interface AppliedLimits {
  memory: number | null;
  memory_soft: number | null;
  swap: number | null;
  cpus: string;
  cpu_allowance: { quota_us: number; period_us: number } | null;
  cpu_weight: number | null;
  processes: number | null;
}

/** `GET /1.0/instances/{name}/state`: LXD's fields and Berth's additions. */
export interface InstanceStateDetails extends InstanceState {
  memory?: { usage: number; usage_peak: number; swap_usage: number };
  cpu?: { usage: number };
  io?: { read_bytes: number; written_bytes: number };
  oom_kills?: number;
  limits?: AppliedLimits | null;
  ready_ms?: number | null;
  /** API extension berth_instance_boot; absent from older daemons. */
  boot?: BootState | null;
  lxcfs?: boolean;
}

/** The state's `boot` (berth_instance_boot): the current boot's init and systemd's readiness. */
export interface BootState {
  init: 'systemd' | 'other';
  ready: boolean;
  ready_at: string | null;
  ready_ms: number | null;
  failed_units: string[] | null;
}

/** `GET /1.0/resources`: the host's capacity beside what its instances were promised. */
export interface HostResources {
  cpu: { architecture: string; total: number; online: string };
  memory: { total: number; used: number };
  committed: { instances: number; memory_bytes: number; unlimited_memory_instances: number; cpus: number; cpu_quota: number; processes: number };
  admission: { memory_overcommit: number | null; memory_allowed: number | null };
}

const indent = (lines: string[], by = '  ') => lines.map((line) => `${by}${line}`);

/** `25ms/100ms`: a CFS quota as the user writes limits.cpu.allowance. */
function formatAllowance({ quota_us, period_us }: { quota_us: number; period_us: number }): string {
  const unit = (us: number) => (us % 1000 === 0 ? `${us / 1000}ms` : `${us}us`);
  return `${unit(quota_us)}/${unit(period_us)}`;
}

function limitLines(limits: AppliedLimits): string[] {
  const lines: string[] = [];
  const memory = limits.memory ?? limits.memory_soft;
  lines.push(`Memory: ${memory === null ? 'unlimited' : `${formatSize(memory)} (${limits.memory === null ? 'soft' : 'hard'})`}`);
  if (limits.memory !== null) lines.push(`Swap: ${limits.swap === null ? 'unlimited' : limits.swap === 0 ? 'none' : formatSize(limits.swap)}`);
  if (limits.cpus) lines.push(`CPUs: ${limits.cpus}`);
  lines.push(`CPU allowance: ${limits.cpu_allowance ? formatAllowance(limits.cpu_allowance) : 'unlimited'}`);
  if (limits.cpu_weight !== null) lines.push(`CPU weight: ${limits.cpu_weight}`);
  lines.push(`Processes: ${limits.processes ?? 'unlimited'}`);
  return lines;
}

/** A unit `systemctl --failed` lists inside an instance. */
export interface FailedUnit {
  unit: string;
  load: string;
  active: string;
  sub: string;
  description: string;
}

/** The command asked inside a running instance for its failed units (plain, one per line, no legend). */
export const FAILED_UNITS_COMMAND = ['systemctl', '--failed', '--plain', '--no-legend', '--no-pager'];

/** Parses `systemctl --failed --plain --no-legend`: `UNIT LOAD ACTIVE SUB DESCRIPTION...` per line. */
export function parseFailedUnits(text: string): FailedUnit[] {
  const units: FailedUnit[] = [];
  for (const line of text.split('\n')) {
    const [unit, load, active, sub, ...description] = line.trim().split(/\s+/);
    if (unit && sub) units.push({ unit, load, active, sub, description: description.join(' ') });
  }
  return units;
}

/**
 * The failed units of a running instance, asked by running FAILED_UNITS_COMMAND through the exec
 * API (non-interactive, output recorded), so that the state query itself never execs into the
 * container. A string says why they could not be asked.
 */
export async function fetchFailedUnits(cli: Cli, name: string): Promise<FailedUnit[] | string> {
  try {
    const result = await cli.client.send<{ return?: number; output?: Record<string, string> }>('POST', `/1.0/instances/${segment(name)}/exec`, {
      command: FAILED_UNITS_COMMAND,
      environment: { SYSTEMD_COLORS: '0' },
      'wait-for-websocket': false,
      'record-output': true,
      interactive: false,
    });
    const stdout = result.output?.['1'];
    if (result.return !== 0 || !stdout) return `systemctl exited with ${result.return ?? 'no status'}`;
    const res = await cli.client.download(stdout);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return parseFailedUnits(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    return (err as Error).message;
  }
}

function failedUnitLines(failed: FailedUnit[] | string): string[] {
  if (typeof failed === 'string') return [`Failed units: unknown (${failed})`];
  if (failed.length === 0) return ['Failed units: none'];
  return ['Failed units:', ...indent(failed.map((u) => `${u.unit} (${u.load} ${u.active} ${u.sub})${u.description ? `: ${u.description}` : ''}`))];
}

const readyText = (ms: number | null) => (ms === null ? 'not yet' : `${(ms / 1000).toFixed(2)}s after start`);

/**
 * One instance as `lxc info <name>` shows it, with the limits in force, lxcfs and OOM kills, and
 * for a running one its failed systemd units when they were asked (`failed`).
 */
export function renderInstanceInfo(instance: Instance, state: InstanceStateDetails, failed?: FailedUnit[] | string): string {
  const running = state.pid > 0;
  const lines = [
    `Name: ${instance.name}`,
    `Status: ${state.status.toUpperCase()}`,
    `Type: ${instance.type || 'container'}`,
    `Architecture: ${instance.architecture}`,
  ];
  if (running) lines.push(`PID: ${state.pid}`);
  lines.push(`Created: ${formatInfoDate(instance.created_at)}`, `Last Used: ${formatInfoDate(instance.last_used_at)}`);
  if (!running) return lines.join('\n');
  const boot = state.boot;
  if (boot) lines.push(`Init: ${boot.init}`, `Ready: ${boot.init !== 'systemd' ? 'not reported (only systemd reports it)' : readyText(boot.ready_ms)}`);
  else if (state.ready_ms !== undefined) lines.push(`Ready: ${readyText(state.ready_ms)}`);
  lines.push(`lxcfs: ${state.lxcfs ? 'active' : 'inactive'}`);
  if (failed !== undefined) lines.push(...failedUnitLines(failed));
  if (state.limits) lines.push('', 'Limits:', ...indent(limitLines(state.limits)));
  lines.push('', 'Resources:', `  Processes: ${state.processes}`);
  if (state.cpu) lines.push('  CPU usage:', `    CPU usage (in seconds): ${Math.floor(state.cpu.usage / 1e9)}`);
  if (state.memory) {
    lines.push('  Memory usage:', `    Memory (current): ${formatSize(state.memory.usage)}`, `    Memory (peak): ${formatSize(state.memory.usage_peak)}`);
    if (state.memory.swap_usage > 0) lines.push(`    Swap (current): ${formatSize(state.memory.swap_usage)}`);
  }
  if (state.oom_kills !== undefined) lines.push(`  OOM kills: ${state.oom_kills}`);
  if (state.io) lines.push('  Disk I/O:', `    Read: ${formatSize(state.io.read_bytes)}`, `    Written: ${formatSize(state.io.written_bytes)}`);
  const nics = Object.entries(state.network ?? {});
  if (nics.length > 0) {
    lines.push('  Network usage:');
    for (const [name, nic] of nics) {
      lines.push(`    ${name}:`, `      Type: ${nic.type ?? ''}`);
      if (nic.state) lines.push(`      State: ${nic.state.toUpperCase()}`);
      if (nic.host_name) lines.push(`      Host interface: ${nic.host_name}`);
      if (nic.hwaddr) lines.push(`      MAC address: ${nic.hwaddr}`);
      for (const a of nic.addresses ?? []) lines.push(`      IP address: ${a.address}/${a.netmask} (${a.scope})`);
    }
  }
  return lines.join('\n');
}

/** The host's capacity and commitments, as `berth info --resources` prints them. */
export function renderResources(r: HostResources): string {
  const c = r.committed;
  const lines = [
    'CPU:',
    `  Architecture: ${r.cpu.architecture}`,
    `  CPUs: ${r.cpu.total} (online: ${r.cpu.online})`,
    `  Committed: ${c.cpus} CPUs by count or set, ${c.cpu_quota} CPUs of hard allowance`,
    'Memory:',
    `  Total: ${formatSize(r.memory.total)}`,
    `  Used: ${formatSize(r.memory.used)}`,
    `  Committed: ${formatSize(c.memory_bytes)} (${c.unlimited_memory_instances} of ${c.instances} instances without a limit)`,
    `  Admission: ${r.admission.memory_allowed === null ? 'off' : `at most ${formatSize(r.admission.memory_allowed)} (overcommit ${r.admission.memory_overcommit})`}`,
    'Processes:',
    `  Committed: ${c.processes}`,
  ];
  return lines.join('\n');
}

export function registerInfoCommand(program: Command, cli: Cli): void {
  program
    .command('info')
    .description("Show information about the server, its resources (--resources), or an instance")
    .argument('[instance]', 'an instance: its state, limits and usage')
    .option('--resources', "the host's capacity and what its instances were promised")
    .addOption(
      new Option('-f, --format <format>', 'output format (default: a summary)').choices(OUTPUT_FORMATS),
    )
    .action(async (name: string | undefined, { format, resources }: { format?: OutputFormat; resources?: boolean }) => {
      if (name !== undefined) {
        const path = `/1.0/instances/${segment(name)}`;
        const [instance, state] = await Promise.all([cli.client.get<Instance>(path), cli.client.get<InstanceStateDetails>(`${path}/state`)]);
        if (format) cli.print(renderDocument({ ...instance, state }, format));
        else cli.print(renderInstanceInfo(instance, state, state.pid > 0 ? await fetchFailedUnits(cli, name) : undefined));
      } else if (resources) {
        const r = await cli.client.get<HostResources>('/1.0/resources');
        cli.print(format ? renderDocument(r, format) : renderResources(r));
      } else {
        const info = await cli.client.get<ServerInfo>('/1.0');
        cli.print(format ? renderDocument(info, format) : renderServerSummary(info));
      }
    });
}
