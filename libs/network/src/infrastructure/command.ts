import { execFile } from 'node:child_process';
import { NetworkCommandError } from '../domain/network.errors.js';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a host tool with an argument array (never through a shell) and resolves with its output;
 * a non-zero exit rejects with NetworkCommandError carrying the command line and stderr.
 */
export function run(file: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        const exitCode = typeof error.code === 'number' ? error.code : null;
        reject(new NetworkCommandError([file, ...args], stderr || error.message, exitCode));
      } else {
        resolve({ stdout, stderr });
      }
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs a command whose JSON output (`ip -j`, `tc -j`, `nft -j`) is parsed and returned. */
export async function runJson<T>(file: string, args: readonly string[]): Promise<T> {
  const { stdout } = await run(file, args);
  return (stdout.trim() === '' ? [] : JSON.parse(stdout)) as T;
}
