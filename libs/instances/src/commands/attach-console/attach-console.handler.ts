import type { Socket } from 'node:net';
import { Runtime } from '#runtime';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { WebsocketOperations, type OperationView, type SessionSockets } from '#operations';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { closeSocket, socketToStream, streamToSocket } from '../exec-in-instance/websocket-stdio.js';
import { AttachConsoleCommand } from './attach-console.command.js';

/**
 * Attaches a client to a running instance's console (the pty whose other end is the container's
 * /dev/console, held by its monitor): a websocket operation with fds `0` (binary frames both
 * ways; the last 64 KiB of output come first) and `control`. Any number of clients may attach
 * at once; closing either socket detaches, and the container runs on. The console's size is
 * the monitor's, so `window-resize` requests are accepted and ignored.
 */
@CommandHandler(AttachConsoleCommand)
export class AttachConsoleHandler implements ICommandHandler<AttachConsoleCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly runtime: Runtime,
    private readonly sessions: WebsocketOperations,
  ) {}

  async execute({ name }: AttachConsoleCommand): Promise<OperationView> {
    const instance = await this.instances.get(name);
    if (!instance.isRunning) throw new InstanceStateError(`Instance "${name}" is not running`);
    return this.sessions.start({
      description: 'Showing console',
      resources: { instances: [`/1.0/instances/${name}`] },
      fds: ['0', 'control'],
      run: async (sockets, ctx) => this.serve(await this.runtime.attachConsole(name), sockets, ctx.signal),
    });
  }

  /** Relays until the client detaches (closes a socket), the container stops or berthd does. */
  private async serve(console: Socket, sockets: SessionSockets, signal: AbortSignal): Promise<void> {
    const data = sockets.get('0')!;
    const detach = () => console.destroy();
    socketToStream(data, console);
    data.on('close', detach);
    sockets.onConnect('control', (control) => {
      control.on('close', detach);
      control.on('error', detach);
      control.on('message', () => undefined);
      control.resume();
    });
    signal.addEventListener('abort', detach, { once: true });
    console.on('error', () => undefined);
    await streamToSocket(console, data);
    signal.removeEventListener('abort', detach);
    closeSocket(data);
    closeSocket(sockets.get('control'));
  }
}
