// berth exec | console: a command's stdio, or the console, over the operation websockets that
// berthd hands out (as LXD's client does): a pty when stdin is a terminal, pipes otherwise.
import { InvalidArgumentError, type Command } from 'commander';
import WebSocket from 'ws';
import type { Envelope, Operation } from '../api.js';
import { segment, type Cli } from '../cli.js';
import { ApiError } from '../client.js';
import { ExitStatus, UsageError } from '../errors.js';

const instancePath = (name: string) => `/1.0/instances/${segment(name)}`;

/** Signals forwarded to a command that has no terminal (on a terminal the keys do it). */
const FORWARDED: Array<[NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1], ['SIGQUIT', 3], ['SIGUSR1', 10], ['SIGUSR2', 12]];

/** Ctrl-a then q: leave the console (the container runs on), as with `lxc console`. */
const DETACH_PREFIX = 0x01;

interface ExecOptions {
  env: Record<string, string>;
  cwd?: string;
  user?: number;
  group?: number;
  forceInteractive?: boolean;
  forceNoninteractive?: boolean;
}

function id(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a numeric id');
  return Number(value);
}

export function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, not "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** The window-resize request of the control socket, for the current terminal size. */
export function resizeMessage(columns: number, rows: number): string {
  return JSON.stringify({ command: 'window-resize', args: { width: String(columns), height: String(rows) } });
}

/** Starts a websocket operation; its id and its sockets' secrets. */
async function startSession(cli: Cli, path: string, body: object): Promise<{ id: string; fds: Record<string, string> }> {
  const { envelope } = await cli.client.request<Operation>('POST', path, body);
  const op = (envelope as Envelope<Operation>).metadata;
  const fds = (op.metadata?.fds ?? {}) as Record<string, string>;
  if (envelope.type !== 'async' || !op.id || typeof fds['0'] !== 'string') throw new ApiError(0, 'berthd did not start a websocket session');
  return { id: op.id, fds };
}

function connect(cli: Cli, operation: string, secret: string): Promise<WebSocket> {
  const path = `/1.0/operations/${encodeURIComponent(operation)}/websocket?secret=${encodeURIComponent(secret)}`;
  const socket = new WebSocket(`ws+unix://${cli.client.socketPath}:${path}`);
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('unexpected-response', (_req, res) => reject(new ApiError(res.statusCode ?? 0, `berthd refused the session's websocket (HTTP ${res.statusCode})`)));
    socket.once('error', reject);
  });
}

/** Resolves once the socket has closed, after writing every binary frame to `out`. */
function drain(socket: WebSocket, out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    socket.on('message', (data, binary) => {
      if (binary) out.write(data as Buffer);
    });
    socket.once('close', () => resolve());
  });
}

/** Sends stdin as binary frames, then the end of input (an empty text frame). */
function sendInput(socket: WebSocket, onData?: (chunk: Buffer) => Buffer | undefined): () => void {
  const input = process.stdin;
  const data = (chunk: Buffer) => {
    const out = onData ? onData(chunk) : chunk;
    if (out && out.length > 0 && socket.readyState === WebSocket.OPEN) socket.send(out, { binary: true });
  };
  const end = () => {
    if (socket.readyState === WebSocket.OPEN) socket.send('');
  };
  input.on('data', data);
  input.once('end', end);
  input.on('error', end);
  return () => {
    input.off('data', data);
    input.off('end', end);
    input.pause();
    input.destroy();
  };
}

/** Raw mode for the user's terminal while a session runs, and SIGWINCH as window-resize. */
function withTerminal(control: WebSocket): () => void {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const resize = () => {
    if (control.readyState === WebSocket.OPEN) control.send(resizeMessage(process.stdout.columns ?? 80, process.stdout.rows ?? 24));
  };
  process.on('SIGWINCH', resize);
  return () => {
    process.off('SIGWINCH', resize);
    if (raw) stdin.setRawMode(false);
  };
}

export async function runExec(cli: Cli, name: string, command: string[], options: ExecOptions): Promise<number> {
  if (command.length === 0) throw new UsageError('no command given');
  if (options.forceInteractive && options.forceNoninteractive) throw new UsageError('-t and -T cannot be used together');
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const interactive = options.forceInteractive === true || (terminal && options.forceNoninteractive !== true);
  const environment = interactive && process.env.TERM ? { TERM: process.env.TERM, ...options.env } : options.env;
  const session = await startSession(cli, `${instancePath(name)}/exec`, {
    command,
    environment,
    cwd: options.cwd,
    user: options.user,
    group: options.group,
    'wait-for-websocket': true,
    'record-output': false,
    interactive,
    width: interactive ? (process.stdout.columns ?? 80) : 0,
    height: interactive ? (process.stdout.rows ?? 24) : 0,
  });
  const control = await connect(cli, session.id, session.fds.control!);
  const stdin = await connect(cli, session.id, session.fds['0']!);
  let outputs: Array<Promise<void>>;
  let restore = () => undefined as void;
  const forward = (signal: NodeJS.Signals) => control.readyState === WebSocket.OPEN && control.send(JSON.stringify({ command: 'signal', signal: FORWARDED.find(([s]) => s === signal)![1] }));
  if (interactive) {
    restore = withTerminal(control);
    outputs = [drain(stdin, process.stdout)];
  } else {
    const [stdout, stderr] = [await connect(cli, session.id, session.fds['1']!), await connect(cli, session.id, session.fds['2']!)];
    outputs = [drain(stdout, process.stdout), drain(stderr, process.stderr)];
    for (const [signal] of FORWARDED) process.on(signal, forward);
  }
  const stopInput = sendInput(stdin);
  try {
    await Promise.all(outputs);
    const op = await cli.client.waitOperation(session.id);
    if (op.status_code !== 200) throw new ApiError(0, op.err || `the command ended as ${op.status}`);
    const code = (op.metadata as { return?: unknown } | null)?.return;
    return typeof code === 'number' ? code : 1;
  } finally {
    stopInput();
    restore();
    for (const [signal] of FORWARDED) process.off(signal, forward);
    control.close();
    stdin.close();
  }
}

export async function runConsole(cli: Cli, name: string): Promise<void> {
  if (process.stdin.isTTY !== true) throw new UsageError('berth console needs a terminal (use --show-log to print the console log)');
  const session = await startSession(cli, `${instancePath(name)}/console`, {
    type: 'console',
    width: process.stdout.columns ?? 80,
    height: process.stdout.rows ?? 24,
  });
  const control = await connect(cli, session.id, session.fds.control!);
  const data = await connect(cli, session.id, session.fds['0']!);
  cli.warn('To detach from the console, press: <ctrl>+a q');
  const restore = withTerminal(control);
  let prefixed = false;
  const stopInput = sendInput(data, (chunk) => {
    const out: number[] = [];
    for (const byte of chunk) {
      if (prefixed) {
        prefixed = false;
        if (byte === 0x71 /* q */) {
          data.close();
          return Buffer.from(out);
        }
        out.push(DETACH_PREFIX);
        if (byte === DETACH_PREFIX) continue;
      } else if (byte === DETACH_PREFIX) {
        prefixed = true;
        continue;
      }
      out.push(byte);
    }
    return Buffer.from(out);
  });
  try {
    await drain(data, process.stdout);
  } finally {
    stopInput();
    restore();
    control.close();
  }
}

export function registerExecCommands(program: Command, cli: Cli): void {
  program
    .command('exec')
    .description('Run a command in a running instance: berth exec <name> -- <command...>; exits with its exit code')
    .argument('<name>')
    .argument('<command...>')
    .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', collectEnv, {})
    .option('--cwd <dir>', 'working directory inside the instance (default /root)')
    .option('--user <uid>', 'numeric user id (default 0)', id)
    .option('--group <gid>', 'numeric group id (default 0)', id)
    .option('-t, --force-interactive', 'a terminal for the command even when stdin is not one')
    .option('-T, --force-noninteractive', 'pipes for the command even when stdin is a terminal')
    .action(async (name: string, command: string[], options: ExecOptions) => {
      const code = await runExec(cli, name, command, options);
      if (code !== 0) throw new ExitStatus(code);
    });

  program
    .command('console')
    .description('Attach to an instance\'s console (detach with <ctrl>+a q), or print its log')
    .argument('<name>')
    .option('--show-log', 'print the console log instead of attaching')
    .action(async (name: string, { showLog }: { showLog?: boolean }) => {
      if (!showLog) return runConsole(cli, name);
      const res = await cli.client.download(`${instancePath(name)}/console`);
      for await (const chunk of res) process.stdout.write(chunk as Buffer);
    });
}
