import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { OperationRunner, WebsocketOperations, type OperationView, type SessionSockets } from '#operations';
import { NativeCallError, Runtime, type ExecStream } from '#runtime';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { InstanceExecEvent } from '../../events/instance-events.js';
import { ExecLogs } from '../../infrastructure/exec-logs.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ExecInInstanceCommand } from './exec-in-instance.command.js';
import { closeSocket, onControl, socketToStream, streamToSocket } from './websocket-stdio.js';

/** The exit status a shell reports for a command it could not run (127 not found, 126 not executable). */
function unstartable(err: unknown): number | undefined {
  if (!(err instanceof NativeCallError) || err.syscall !== 'execve') return undefined;
  if (err.errnoCode === 'ENOENT') return 127;
  if (['EACCES', 'ENOEXEC', 'EISDIR'].includes(err.errnoCode)) return 126;
  return undefined;
}

/**
 * Runs a command in a running instance, as LXD's `POST /1.0/instances/{name}/exec` does. With
 * `wait-for-websocket` the operation hands out one secret per socket (`0`, `1`, `2` and `control`;
 * `0` and `control` with `interactive`, where the command gets a terminal of `width`×`height`) and
 * the command starts once its sockets are connected. Without, it runs at once and its output is
 * recorded (`record-output`) or dropped. Either way the exit code is the operation's
 * `metadata.return`.
 */
@CommandHandler(ExecInInstanceCommand)
export class ExecInInstanceHandler implements ICommandHandler<ExecInInstanceCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly runtime: Runtime,
    private readonly logs: ExecLogs,
    private readonly operations: OperationRunner,
    private readonly sessions: WebsocketOperations,
    private readonly events: EventBus,
  ) {}

  async execute({ name, request }: ExecInInstanceCommand): Promise<OperationView> {
    const { command, environment, cwd, uid, gid, streaming, interactive, width: cols, height: rows } = request;
    const argv = [...command];
    const instance = await this.instances.get(name);
    if (!instance.isRunning) throw new InstanceStateError(`Instance "${name}" is not running`);
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', ...this.instanceEnvironment(instance.expanded.config), ...environment };
    const options = { env, cwd, uid, gid };
    const resources = { instances: [`/1.0/instances/${name}`] };

    if (streaming) {
      return this.sessions.start({
        description: 'Executing command',
        resources,
        fds: interactive ? ['0', 'control'] : ['0', '1', '2', 'control'],
        run: async (sockets, ctx) => {
          const stream = this.runtime.execStream(name, argv, interactive ? { ...options, pty: { rows, cols } } : options);
          const kill = () => stream.signal(9);
          ctx.signal.addEventListener('abort', kill, { once: true });
          this.events.publish(new InstanceExecEvent(name, argv));
          try {
            return { return: await this.serve(stream, sockets, interactive) };
          } finally {
            ctx.signal.removeEventListener('abort', kill);
          }
        },
      });
    }

    const record = request.recordOutput;
    return this.operations.start({
      description: 'Executing command',
      resources,
      run: async () => {
        const result = await this.runtime.exec(name, argv, options);
        this.events.publish(new InstanceExecEvent(name, argv));
        return { return: result.exitCode, output: record ? await this.logs.record(name, result.stdout, result.stderr) : {} };
      },
    });
  }

  /**
   * Relays a session's sockets to the command until it exits and its output is sent: binary
   * frames on `0` are its stdin (a text frame or a close is its end); its output goes to `1` and
   * `2` (with a terminal, both on `0`); `control` resizes the terminal and forwards signals.
   * The sockets are then closed, and the exit status returned.
   */
  private async serve(stream: ExecStream, sockets: SessionSockets, interactive: boolean): Promise<number> {
    const input = sockets.get('0')!;
    socketToStream(input, stream.stdin);
    sockets.onConnect('control', (control) =>
      onControl(control, (request) => {
        if (request.command === 'signal') stream.signal(request.signal);
        else if (interactive) stream.resize(request.rows, request.cols);
      }),
    );
    const outputs = interactive ? [input] : [sockets.get('1')!, sockets.get('2')!];
    const pumps = interactive ? [streamToSocket(stream.stdout, input)] : [streamToSocket(stream.stdout, outputs[0]!), streamToSocket(stream.stderr, outputs[1]!)];
    let code: number;
    try {
      code = (await stream.exited).exitCode;
    } catch (err) {
      const status = unstartable(err);
      if (status === undefined) throw err;
      code = status;
    }
    await Promise.all(pumps);
    for (const socket of [...outputs, input, sockets.get('control')]) closeSocket(socket);
    return code;
  }

  /** `environment.*` config keys are the default environment of every exec, as in LXD. */
  private instanceEnvironment(config: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith('environment.')).map(([k, v]) => [k.slice('environment.'.length), v]));
  }
}
