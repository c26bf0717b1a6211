// berth launch | start | stop | restart | pause | resume (and exec, console: exec.ts)
import { InvalidArgumentError, type Command } from 'commander';
import { segment, type Cli } from '../cli.js';
import { collect, collectKeyValue } from '../options.js';
import { registerExecCommands } from './exec.js';
import type { InstanceStateDetails } from './info.js';
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

interface WaitOptions {
  /** commander's `--no-wait`: false when given. */
  wait: boolean;
  waitTimeout: number;
}

/** How often the state is asked while waiting for READY=1. */
const POLL_MS = 250;

/**
 * Once started (its init runs), waits for a systemd guest to report READY=1, as the state's
 * `boot` says (API extension berth_instance_boot); another init reports no readiness: no wait,
 * nor with a daemon too old to say. A guest that stops meanwhile, or is not ready in time, is an error.
 */
export async function waitBooted(cli: Cli, name: string, timeoutS: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const state = await cli.client.get<InstanceStateDetails>(`${instancePath(name)}/state`);
    if (state.status === 'Stopped') throw new Error(`Instance ${name} stopped before systemd reported it ready (see berth console ${name} --show-log)`);
    if (!state.boot || state.boot.init !== 'systemd' || state.boot.ready) return;
    if (Date.now() >= deadline) {
      throw new Error(`Instance ${name} is running, but systemd did not report it ready within ${timeoutS}s (see berth console ${name} --show-log; --no-wait does not wait)`);
    }
    await sleep(POLL_MS);
  }
}

function addWaitOptions(command: Command): Command {
  return command
    .option('--no-wait', 'return once init runs, without waiting for systemd to report the guest ready')
    .option('--wait-timeout <seconds>', 'how long to wait for systemd to report ready', seconds, 120);
}

export function registerLifecycleCommands(program: Command, cli: Cli): void {
  const launch = program
    .command('launch')
    .description('Create an instance from an image and start it (for a systemd guest, until systemd reports it ready unless --no-wait): berth launch <image> <name>')
    .argument('<image>', 'an image alias, fingerprint or fingerprint prefix')
    .argument('<name>')
    .option('-p, --profile <profile>', 'a profile to apply, in order (repeatable; default: the default profile)', collect, [])
    .option('--no-profiles', 'apply no profile at all')
    .option('-c, --config <key=value>', 'a config key (repeatable)', collectKeyValue, {})
    .option('-e, --ephemeral', 'delete the instance when it stops', false);
  addWaitOptions(launch).action(async (image: string, name: string, options: Omit<InitOptions, 'empty'> & WaitOptions) => {
    const { wait, waitTimeout, ...init } = options;
    await createInstance(cli, image, name, { ...init, empty: false });
    await changeState(cli, name, { action: 'start' });
    if (wait) await waitBooted(cli, name, waitTimeout);
    cli.print(`Instance ${name} started`);
  });

  const start = program
    .command('start')
    .description('Start instances; for a systemd guest, wait until systemd reports it ready (unless --no-wait)')
    .argument('<names...>');
  addWaitOptions(start).action(async (names: string[], { wait, waitTimeout }: WaitOptions) => {
    for (const name of names) await changeState(cli, name, { action: 'start' });
    if (wait) for (const name of names) await waitBooted(cli, name, waitTimeout);
  });

  for (const action of ['stop', 'restart'] as const) {
    const command = program
      .command(action)
      .description(`${action === 'stop' ? 'Stop' : 'Restart'} instances (init halts cleanly on its halt signal unless --force)`)
      .argument('<names...>')
      .option('-f, --force', 'kill instead of asking init to halt', false)
      .option('--timeout <seconds>', 'how long init may take to halt before the container is killed', seconds);
    // A restart is a start: it waits for systemd as berth start does.
    if (action === 'restart') addWaitOptions(command);
    command.action(async (names: string[], { force, timeout, wait = false, waitTimeout = 0 }: StopOptions & Partial<WaitOptions>) => {
      for (const name of names) await changeState(cli, name, { action, force, timeout: timeout ?? -1 });
      if (wait) for (const name of names) await waitBooted(cli, name, waitTimeout);
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
