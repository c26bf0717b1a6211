import { execFile } from 'node:child_process';
import type { CommandFailureDetails } from '../domain/storage.errors.js';

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs one host tool with an argument array (never through a shell). Drivers take a runner so
 * that tests can make a chosen step fail after or instead of running it, and check the rollback.
 */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<CommandOutput>;

/** A host tool exited non-zero, was killed, or could not be started. */
export class CommandFailure extends Error implements CommandFailureDetails {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly errno?: string,
  ) {
    super(`${command} failed (${errno ?? `exit status ${exitCode}`}): ${stderr.trim()}`);
    this.name = 'CommandFailure';
  }

  get details(): CommandFailureDetails {
    return { command: this.command, exitCode: this.exitCode, stderr: this.stderr };
  }

  /** ENOENT from spawn: the tool is not installed. */
  get notInstalled(): boolean {
    return this.errno === 'ENOENT';
  }
}

/** The C locale keeps the messages the drivers look for ("No space left on device") in English. */
const ENV = { ...process.env, LC_ALL: 'C' };

export const runCommand: CommandRunner = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { env: ENV, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, stderr });
      const code = (error as NodeJS.ErrnoException).code;
      const exitCode = typeof code === 'number' ? code : null;
      const errno = typeof code === 'string' ? code : error.signal ? `killed by ${error.signal}` : undefined;
      reject(new CommandFailure(commandLine(command, args), exitCode, stderr || (errno ? error.message : ''), errno));
    });
  });

/** The command as an operator would retype it (arguments with spaces quoted). */
export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
