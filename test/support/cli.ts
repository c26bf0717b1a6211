import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BERTH, type Daemon } from './daemon.js';

/** The repository's root (tests run from dist/test/...): where relative paths like images/debian-12 resolve. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

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

/**
 * `berth(...args)` against the daemon `daemon()` returns (read at each call, as suites start it in
 * `before` and replace it after a restart), run from `cwd` (the repository by default) with
 * `timeoutMs`; and `ok(...args)`, which asserts exit 0 (stderr in the message) and answers stdout.
 */
export function berthRunner(daemon: () => Daemon, { cwd = REPO, timeoutMs }: { cwd?: string; timeoutMs?: number } = {}) {
  const berth = (...args: string[]): Promise<CliRun> => runBerth(args, { env: daemon().env, cwd, timeoutMs });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await berth(...args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return { berth, ok };
}
