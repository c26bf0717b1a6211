// The `berth` command tree.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { Cli } from './cli.js';
import { errorLine } from './errors.js';
import { registerImageCommands } from './commands/image.js';
import { registerInfoCommand } from './commands/info.js';
import { registerInstanceCommands } from './commands/instance.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerMonitorCommand } from './commands/monitor.js';
import { registerOperationCommands } from './commands/operation.js';
import { registerProfileCommands } from './commands/profile.js';
import { registerNetworkCommands } from './commands/network.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerFileCommands } from './commands/file.js';
import { registerPublishCommand } from './commands/publish.js';

function packageVersion(): string {
  // dist/apps/berth/src/program.js and apps/berth/src/program.ts are both four levels down.
  const manifest = new URL('../../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export function buildProgram(cli: Cli): Command {
  const program = new Command('berth')
    .description('Manage Berth system containers through berthd ($BERTH_DIR/unix.socket)')
    .version(packageVersion())
    .configureOutput({
      // commander's own messages start "error:" and may run over two lines; make them read like
      // every other error.
      outputError: (message, write) => write(`${errorLine(message.replace(/^error:\s*/, ''))}\n`),
    });
  registerInfoCommand(program, cli);
  registerProfileCommands(program, cli);
  registerNetworkCommands(program, cli);
  registerImageCommands(program, cli);
  registerInstanceCommands(program, cli);
  registerLifecycleCommands(program, cli);
  registerOperationCommands(program, cli);
  registerMonitorCommand(program, cli);
  registerMigrateCommands(program, cli);
  registerFileCommands(program, cli);
  registerPublishCommand(program, cli);
  return program;
}
