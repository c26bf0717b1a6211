import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';

/*
 * A child process whose stdout is a tar stream (GNU tar, alone or inside a private mount
 * namespace), as a Readable for unpackRootfsArchive. The stream ends only once the child has
 * exited: a failure becomes the stream's error (typed by `onFailure`) instead of a bare
 * truncation, and destroying the stream kills the child.
 */

/** How GNU tar writes a tree: numeric owners, xattrs and ACLs, POSIX format, one filesystem, no symlink followed. */
export const TAR_CREATE_ARGS = ['--create', '--file=-', '--numeric-owner', '--xattrs', '--acls', '--one-file-system', '--format=posix'];

/** A fixed environment: no inherited variable changes what tar or the mount tools do. */
export const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

const STDERR_KEPT_BYTES = 64 * 1024;
const MAX_WARNINGS = 1000;

export interface ProducerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stderr lines (the first 64 KiB). */
  readonly lines: readonly string[];
}

export interface TarProducer {
  readonly stream: Readable;
  /** tar's warnings of a successful run ("socket ignored"), filled once the stream has ended. */
  readonly warnings: string[];
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * `executable args` run so that they die with the daemon: setpriv sets the parent-death signal
 * (SIGKILL) and execs them, so a daemon killed in the middle of an import takes its readers
 * (unshare, whose --kill-child takes the namespace with it; qemu-img; ssh) along instead of
 * leaving them writing into a volume that the next start deletes.
 */
export function diesWithDaemon(executable: string, args: readonly string[]): [string, string[]] {
  return [SETPRIV, ['--pdeathsig', 'KILL', '--', executable, ...args]];
}

/**
 * Runs `command` lazily (on the first read) and streams its stdout. Exit status 0 ends the
 * stream, keeping stderr lines as warnings; anything else destroys it with `onFailure(exit)`.
 */
export function produceTar(command: readonly [string, ...string[]], onFailure: (exit: ProducerExit) => Promise<Error> | Error): TarProducer {
  const warnings: string[] = [];
  const [executable, ...args] = command;
  async function* run(): AsyncGenerator<Buffer> {
    const child = spawn(...diesWithDaemon(executable, args), { stdio: ['ignore', 'pipe', 'pipe'], env: TOOL_ENV });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      if (stderr.length < STDERR_KEPT_BYTES) stderr += text;
    });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, error }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    try {
      yield* child.stdout as AsyncIterable<Buffer>;
      const exit = await closed;
      if (exit.error !== undefined) throw new Error(`Cannot run ${executable}: ${exit.error.message}`);
      const lines = stderr.split('\n').filter((line) => line !== '');
      if (exit.code !== 0) throw await onFailure({ code: exit.code, signal: exit.signal, lines });
      warnings.push(...lines.slice(0, MAX_WARNINGS));
    } finally {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await closed;
      }
    }
  }
  return { stream: Readable.from(run(), { objectMode: false }), warnings };
}
