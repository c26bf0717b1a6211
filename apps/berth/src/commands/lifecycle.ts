// berth launch | start | stop | restart | exec
import { InvalidArgumentError, type Command } from 'commander';
import type { Operation } from '../api.js';
import { segment, type Cli } from '../cli.js';
import { ExitStatus, UsageError } from '../errors.js';
import { collect, collectKeyValue } from './image.js';
import { createInstance, type InitOptions } from './instance.js';

const instancePath = (name: string) => `/1.0/instances/${segment(name)}`;

interface StopOptions {
  force: boolean;
  timeout?: number;
}

interface ExecOptions {
  env: Record<string, string>;
  cwd?: string;
  user?: number;
  group?: number;
}

function seconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of seconds');
  return Number(value);
}

function id(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a numeric id');
  return Number(value);
}

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, not "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

async function changeState(cli: Cli, name: string, body: Record<string, unknown>): Promise<void> {
  await cli.client.send('PUT', `${instancePath(name)}/state`, body);
}

/** Reads one recorded output stream of an exec (a path under /1.0/instances/<name>/logs/). */
async function recorded(cli: Cli, path: string | undefined): Promise<Buffer> {
  if (!path) return Buffer.alloc(0);
  const res = await cli.client.download(path);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function registerLifecycleCommands(program: Command, cli: Cli): void {
  program
    .command('launch')
    .description('Create an instance from an image and start it: berth launch <image> <name>')
    .argument('<image>', 'an image alias, fingerprint or fingerprint prefix')
    .argument('<name>')
    .option('-p, --profile <profile>', 'a profile to apply, in order (repeatable; default: the default profile)', collect, [])
    .option('--no-profiles', 'apply no profile at all')
    .option('-c, --config <key=value>', 'a config key (repeatable)', collectKeyValue, {})
    .option('-e, --ephemeral', 'delete the instance when it stops', false)
    .action(async (image: string, name: string, options: Omit<InitOptions, 'empty'>) => {
      await createInstance(cli, image, name, { ...options, empty: false });
      await changeState(cli, name, { action: 'start' });
      cli.print(`Instance ${name} started`);
    });

  program
    .command('start')
    .description('Start instances')
    .argument('<names...>')
    .action(async (names: string[]) => {
      for (const name of names) await changeState(cli, name, { action: 'start' });
    });

  for (const action of ['stop', 'restart'] as const) {
    program
      .command(action)
      .description(`${action === 'stop' ? 'Stop' : 'Restart'} instances (systemd halts cleanly unless --force)`)
      .argument('<names...>')
      .option('-f, --force', 'kill instead of asking systemd to halt', false)
      .option('--timeout <seconds>', 'how long systemd may take to halt before the container is killed', seconds)
      .action(async (names: string[], { force, timeout }: StopOptions) => {
        for (const name of names) await changeState(cli, name, { action, force, timeout: timeout ?? -1 });
      });
  }

  program
    .command('exec')
    .description('Run a command in a running instance: berth exec <name> -- <command...>; exits with its exit code')
    .argument('<name>')
    .argument('<command...>')
    .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', collectEnv, {})
    .option('--cwd <dir>', 'working directory inside the instance (default /root)')
    .option('--user <uid>', 'numeric user id (default 0)', id)
    .option('--group <gid>', 'numeric group id (default 0)', id)
    .action(async (name: string, command: string[], options: ExecOptions) => {
      if (command.length === 0) throw new UsageError('no command given');
      const result = await cli.client.send<Operation['metadata'] & { return?: number; output?: Record<string, string> }>('POST', `${instancePath(name)}/exec`, {
        command,
        environment: options.env,
        cwd: options.cwd,
        user: options.user,
        group: options.group,
        'record-output': true,
        'wait-for-websocket': false,
        interactive: false,
      });
      process.stdout.write(await recorded(cli, result.output?.['1']));
      process.stderr.write(await recorded(cli, result.output?.['2']));
      const code = typeof result.return === 'number' ? result.return : 1;
      if (code !== 0) throw new ExitStatus(code);
    });
}
