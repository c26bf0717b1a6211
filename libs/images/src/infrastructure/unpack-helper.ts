import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { dirname, isAbsolute, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { locateNativeExecutable } from '#core';
import { ImageExtractionFailedError, UnsafeArchiveError } from '../domain/image.errors.js';
import { encodeEndRecord, RECORD_STREAM_MAGIC } from './unpack-records.js';

/** The container's id mapping: host id = archive id + shift, for archive ids below `range`. */
export interface IdShift {
  readonly uidShift: number;
  readonly gidShift: number;
  readonly range: number;
}

export interface UnpackHelperOptions {
  readonly helperPath: string;
  /** Absolute path of the directory to create; it must not exist. */
  readonly target: string;
  readonly idShift?: IdShift;
  /** Device nodes and FIFOs are created only when true; dropped with a warning otherwise. */
  readonly privileged?: boolean;
}

export interface UnpackSummary {
  readonly entries: number;
  readonly bytes: number;
  readonly dropped: number;
}

const MAX_KEPT_WARNINGS = 1000;

/**
 * Where berth-unpack is: `override` (the daemon's typed config) if given, else the node-gyp build,
 * else a manual gcc build, both looked up from this file upwards to the repository root.
 */
export function locateUnpackHelper(override?: string): string {
  return locateNativeExecutable('berth-unpack', import.meta.url, override);
}

/**
 * One running `berth-unpack --target`: the writer of an extraction. Records go to its stdin with
 * backpressure; its stderr lines become warnings or the typed error that ends the import.
 */
export class UnpackHelperProcess {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly closed: Promise<void>;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private stdout = '';
  private stderrLines: string[] = [];
  private stderrRest = '';
  private warningCount = 0;
  readonly warnings: string[] = [];

  private constructor(options: UnpackHelperOptions) {
    if (!isAbsolute(options.target)) throw new Error(`Extraction target must be an absolute path: ${options.target}`);
    const args = ['--target', options.target];
    if (options.idShift !== undefined) {
      args.push('--uid-shift', String(options.idShift.uidShift), '--gid-shift', String(options.idShift.gidShift), '--id-range', String(options.idShift.range));
    }
    if (options.privileged === true) args.push('--privileged');
    this.child = spawn(options.helperPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    this.child.stdin.on('error', () => {
      // EPIPE once the helper has stopped: the exit status and stderr say why.
    });
    this.child.stdout.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => this.collectStderr(text));
    this.closed = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.stderrLines.push(`protocol\tcannot run ${options.helperPath}: ${error.message}`);
        this.exit ??= { code: null, signal: null };
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.collectStderr('\n');
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  /**
   * Starts the helper and resolves once it has created the target, so that from then on the
   * target is ours to remove, even if the helper is killed a moment later. Rejects, leaving the
   * path alone, if it could not be created (it exists, its parent is missing).
   */
  static async start(options: UnpackHelperOptions): Promise<UnpackHelperProcess> {
    const helper = new UnpackHelperProcess(options);
    await new Promise<void>((resolve) => {
      const check = () => {
        if (helper.stdout.startsWith('created\n') || helper.exit !== null) {
          helper.child.stdout.off('data', check);
          resolve();
        }
      };
      helper.child.stdout.on('data', check);
      void helper.closed.then(check);
    });
    if (!helper.stdout.startsWith('created\n')) {
      await helper.closed;
      throw helper.failure();
    }
    await helper.write(RECORD_STREAM_MAGIC);
    return helper;
  }

  /** Writes bytes to the helper, waiting while its pipe is full; throws the helper's error if it stopped. */
  async write(bytes: Buffer): Promise<void> {
    if (this.exit !== null) throw this.failure();
    if (this.child.stdin.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.child.stdin.off('drain', done);
        this.child.stdin.off('error', done);
        resolve();
      };
      this.child.stdin.on('drain', done);
      this.child.stdin.on('error', done);
      void this.closed.then(done);
    });
    if (this.exit !== null) {
      await this.closed;
      throw this.failure();
    }
  }

  /** Sends the end record and waits for the helper to confirm everything was written. */
  async finish(): Promise<UnpackSummary> {
    await this.write(encodeEndRecord());
    this.child.stdin.end();
    await this.closed;
    const ok = /^ok\t(\d+)\t(\d+)\t(\d+)$/m.exec(this.stdout);
    if (this.exit?.code !== 0 || ok === null) throw this.failure();
    return { entries: Number(ok[1]), bytes: Number(ok[2]), dropped: Number(ok[3]) };
  }

  /** Stops the helper at once and waits for it to be gone, so that nothing writes during cleanup. */
  async abort(): Promise<void> {
    if (this.exit === null) this.child.kill('SIGKILL');
    await this.closed;
  }

  private collectStderr(text: string): void {
    const lines = (this.stderrRest + text).split('\n');
    this.stderrRest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      if (line.startsWith('warning\t')) {
        this.warningCount += 1;
        if (this.warnings.length < MAX_KEPT_WARNINGS) this.warnings.push(line.split('\t').slice(1).map(unescape).join(': '));
      } else {
        this.stderrLines.push(line);
      }
    }
  }

  /** The typed error for how the helper ended. */
  failure(): Error {
    const line = this.stderrLines[0];
    const fields = line?.split('\t').map(unescape) ?? [];
    if (fields[0] === 'rejected' && fields.length >= 3) return new UnsafeArchiveError(fields[1], fields.slice(2).join(' '));
    if (fields[0] === 'failed' && fields.length >= 4) return new ImageExtractionFailedError(fields[1], fields[2], fields[3]);
    if (fields[0] === 'protocol') return new Error(`berth-unpack refused its input: ${fields.slice(1).join(' ')}`);
    if (this.exit?.signal === 'SIGSYS') return new Error('berth-unpack was killed by its seccomp sandbox (SIGSYS): it made a syscall outside its allow list');
    const how = this.exit?.signal ?? `exit status ${this.exit?.code ?? 'unknown'}`;
    return new Error(`berth-unpack stopped (${how})${line === undefined ? '' : `: ${line}`}`);
  }
}

/**
 * Removes an extracted (or partly extracted) tree with `berth-unpack --remove`, which enters
 * directories only through O_NOFOLLOW descriptors: a symlink in the tree is unlinked, never
 * followed. A missing target is not an error.
 */
export async function removeExtractedTree(helperPath: string, target: string): Promise<void> {
  if (!isAbsolute(target)) throw new Error(`Tree to remove must be an absolute path: ${target}`);
  const child = spawn(helperPath, ['--remove', target], { stdio: ['ignore', 'ignore', 'pipe'], env: {} });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code === 0) return;
  const fields = stderr.split('\n')[0].split('\t').map(unescape);
  if (fields[0] === 'failed' && fields.length >= 4) throw new ImageExtractionFailedError(fields[1], fields[2], fields[3]);
  throw new Error(`berth-unpack --remove ${target} failed: ${stderr.trim()}`);
}

/* Reverses the helper's escaping of control bytes and backslashes (\xNN). */
function unescape(field: string): string {
  if (!field.includes('\\x')) return field;
  const bytes: number[] = [];
  const raw = Buffer.from(field, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && raw[i + 1] === 0x78 && i + 3 < raw.length) {
      bytes.push(parseInt(raw.toString('latin1', i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(raw[i]);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
