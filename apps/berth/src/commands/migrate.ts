// berth import-vm <source> <name> [--dry-run], berth migration list|show
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ConfigMap } from '../api.js';
import { segment, type Cli } from '../cli.js';
import { OperationFailedError, operationId, type BerthClient } from '../client.js';
import { UsageError } from '../errors.js';
import { renderYaml } from '../format.js';
import { collect, collectKeyValue } from '../options.js';

const FORMATS = ['tarball', 'directory', 'raw', 'qcow2'];

export interface ImportVmOptions {
  profile: string[];
  profiles: boolean;
  config: ConfigMap;
  format?: string;
  dryRun: boolean;
  ssh?: string;
  sshPort?: string;
  sshIdentity?: string;
}

interface ImportResult {
  report?: Record<string, unknown>;
  rendered?: string;
}

/** The InstancesPost of `berth import-vm`: the source path as the daemon will see it (absolute). */
export function importVmBody(source: string, name: string, options: ImportVmOptions, cwd = process.cwd()): Record<string, unknown> {
  if (options.profile.length > 0 && !options.profiles) throw new UsageError('--profile and --no-profiles cannot be used together');
  if (options.format !== undefined && !FORMATS.includes(options.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const dryRun = options.dryRun ? { dry_run: true } : {};
  let from: Record<string, unknown>;
  if (options.ssh !== undefined) {
    if (options.format !== undefined) throw new UsageError('--format does not apply to --ssh');
    if (!source.startsWith('/')) throw new UsageError(`with --ssh, <source> is the tree to copy on the machine, an absolute path such as /: "${source}"`);
    const port = options.sshPort === undefined ? undefined : Number(options.sshPort);
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new UsageError(`--ssh-port must be a port number: "${options.sshPort}"`);
    from = { ssh: options.ssh, path: source, ...(port ? { ssh_port: port } : {}), ...(options.sshIdentity ? { ssh_identity: resolve(cwd, options.sshIdentity) } : {}) };
  } else {
    if (options.sshPort !== undefined || options.sshIdentity !== undefined) throw new UsageError('--ssh-port and --ssh-identity need --ssh');
    from = { path: resolve(cwd, source), ...(options.format ? { format: options.format } : {}) };
  }
  return {
    name,
    type: 'container',
    source: { type: 'migration', mode: 'import', ...from, ...dryRun },
    ...(options.profiles ? (options.profile.length > 0 ? { profiles: options.profile } : {}) : { profiles: [] }),
    config: options.config,
    devices: {},
  };
}

/** Waits for the operation, showing its `import_progress` as it changes (on stderr, one line per step). */
async function follow(client: BerthClient, id: string, progress: (text: string) => void): Promise<ImportResult> {
  let last = '';
  for (;;) {
    const operation = await client.waitOperation(id, 1);
    const metadata = (operation.metadata ?? {}) as Record<string, unknown>;
    const text = typeof metadata.import_progress === 'string' ? metadata.import_progress : '';
    if (text !== '' && text !== last) {
      last = text;
      progress(text);
    }
    if (operation.status_code >= 200) {
      if (operation.status_code !== 200) throw new OperationFailedError(operation);
      return metadata as ImportResult;
    }
  }
}

export function registerMigrateCommands(program: Command, cli: Cli): void {
  program
    .command('import-vm')
    .description('Make a system container of a VM: its root filesystem as a tarball, a directory or a disk image (raw or qcow2), adapted and reported')
    .argument('<source>', 'a tarball of the VM\'s root, a directory holding it, or a raw/qcow2 disk image (a path on the daemon\'s host); with --ssh, the tree to copy')
    .argument('<name>', 'the new instance')
    .option('-p, --profile <profile>', 'a profile to apply, in order (repeatable; default: the default profile)', collect, [])
    .option('--no-profiles', 'apply no profile at all')
    .option('-c, --config <key=value>', 'a config key (repeatable)', collectKeyValue, {})
    .option('--format <format>', `the source's format when it cannot be told (${FORMATS.join(', ')})`)
    .option('--dry-run', 'read the source and show the report; create nothing', false)
    .option('--ssh <user@host>', 'copy a running machine over SSH (then <source> is the tree to copy on it, usually /)')
    .option('--ssh-port <port>', 'the SSH port (default 22)')
    .option('--ssh-identity <file>', 'the private key to log in with (default: the daemon user\'s keys)')
    .action(async (source: string, name: string, options: ImportVmOptions) => {
      const { envelope } = await cli.client.request('POST', '/1.0/instances', importVmBody(source, name, options));
      const result = await follow(cli.client, operationId(envelope), (text) => cli.warn(text));
      if (result.rendered) cli.print(result.rendered);
      const from = options.ssh ? `${options.ssh}:${source}` : resolve(source);
      cli.print(options.dryRun ? 'Dry run: nothing was created.' : `Instance ${name} created from ${from}; start it with: berth start ${name}`);
    });

  const migration = program.command('migration').description('VM import reports');
  migration
    .command('list')
    .description('List the instances made by berth import-vm')
    .action(async () => {
      const paths = await cli.client.get<string[]>('/1.0/migrations');
      for (const path of paths) cli.print(decodeURIComponent(path.split('/').pop()!));
    });
  migration
    .command('show')
    .description('Show the report of the VM import an instance came from')
    .argument('<name>')
    .option('--yaml', 'the whole report as YAML', false)
    .action(async (name: string, options: { yaml: boolean }) => {
      const view = await cli.client.get<{ instance: string; source: string; source_kind: string; created_at: string; duration_ms: number; report: Record<string, unknown> & { rendered?: string } }>(
        `/1.0/migrations/${segment(name)}`,
      );
      if (options.yaml) {
        cli.print(renderYaml(view));
        return;
      }
      cli.print(`Instance: ${view.instance}\nSource: ${view.source} (${view.source_kind})\nImported: ${view.created_at} in ${(view.duration_ms / 1000).toFixed(1)} s`);
      cli.print(typeof view.report.text === 'string' ? view.report.text : renderYaml(view.report));
    });
}
