import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Daemon } from './daemon.js';

const exec = promisify(execFile);

/** The environment that points LXD's own `lxc` client (Debian's lxd-client 5.0.2) at a test daemon. */
export function lxcEnv(d: Daemon): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: d.dir, LXD_DIR: d.dir };
}

/** Gives lxc only the local remote: its default config would also list public image servers. */
export async function configureLxc(d: Daemon): Promise<void> {
  await mkdir(join(d.dir, '.config', 'lxc'), { recursive: true });
  await writeFile(join(d.dir, '.config', 'lxc', 'config.yml'), 'default-remote: local\nremotes:\n  local:\n    addr: unix://\n    public: false\naliases: {}\n');
}

/**
 * `lxc ...args` against the daemon `daemon()` returns (read at each call, as tests start it in
 * `before`), with stdin closed: `lxc launch`/`init` read instance YAML from a stdin that is not a
 * terminal. Rejects on a non-zero exit, with `code` and `stderr`.
 */
export function lxcRunner(daemon: () => Daemon, timeoutMs = 60_000) {
  return (...args: string[]) => {
    const run = exec('lxc', args, { env: lxcEnv(daemon()), timeout: timeoutMs });
    run.child.stdin?.end();
    return run;
  };
}
