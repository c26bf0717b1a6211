import { execFile } from 'node:child_process';
import { BERTH } from './daemon.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `berth` binary with `env` (a daemon's BERTH_DIR); `input`, when given, is its
 * stdin. Resolves with the exit code and both outputs; rejects only if it could not be run.
 */
export function runBerth(args: readonly string[], options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [BERTH, ...args], { env: options.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : undefined) : 0;
      if (code === undefined) reject(err);
      else resolve({ code, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}
