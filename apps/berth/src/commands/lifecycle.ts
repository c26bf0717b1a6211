// berth launch | start | stop | restart | pause | resume (and exec, console: exec.ts)
import { InvalidArgumentError, type Command } from 'commander';
import { segment, type Cli } from '../cli.js';
import { collect, collectKeyValue } from '../options.js';
import { registerExecCommands } from './exec.js';
import { createInstance, type InitOptions } from './instance.js';

const instancePath = (name: string) => `/1.0/instances/${segment(name)}`;

interface StopOptions {
  force: boolean;
  timeout?: number;
}

function seconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of seconds');
  return Number(value);
}

async function changeState(cli: Cli, name: string, body: Record<string, unknown>): Promise<void> {
  await cli.client.send('PUT', `${instancePath(name)}/state`, body);
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

  for (const [action, alias, verb] of [['pause', 'freeze', 'Freeze'], ['resume', 'unfreeze', 'Thaw']] as const) {
    program
      .command(action)
      .alias(alias)
      .description(`${verb} the processes of instances (their cgroup's freezer)`)
      .argument('<names...>')
      .action(async (names: string[]) => {
        for (const name of names) await changeState(cli, name, { action: alias });
      });
  }

  registerExecCommands(program, cli);
}
