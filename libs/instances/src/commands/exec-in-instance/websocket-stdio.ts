import type { Readable, Writable } from 'node:stream';
import type { RawData, WebSocket } from 'ws';

/** A request on a session's control socket (LXD's InstanceExecControl). */
export type ControlRequest = { command: 'window-resize'; rows: number; cols: number } | { command: 'signal'; signal: number };

/**
 * Parses one control message: `{"command":"window-resize","args":{"width":"80","height":"24"}}`
 * or `{"command":"signal","signal":15}`. Anything else (bad JSON, unknown commands, sizes or
 * signals out of range) is undefined: a client's mistake must not end the session.
 */
export function parseControl(text: string): ControlRequest | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { command, args, signal } = message as { command?: unknown; args?: unknown; signal?: unknown };
  if (command === 'window-resize' && typeof args === 'object' && args !== null) {
    const { width, height } = args as { width?: unknown; height?: unknown };
    const cols = Number(width);
    const rows = Number(height);
    const valid = (n: number) => Number.isInteger(n) && n > 0 && n <= 10_000;
    return valid(cols) && valid(rows) ? { command, rows, cols } : undefined;
  }
  if (command === 'signal' && Number.isInteger(signal) && (signal as number) >= 1 && (signal as number) <= 64) {
    return { command, signal: signal as number };
  }
  return undefined;
}

function bytes(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/**
 * Writes a socket's binary frames to `input`, and ends `input` at the client's end of input: a
 * text frame (LXD's clients send an empty one as a barrier) or the socket's close. Resumes a
 * paused socket.
 */
export function socketToStream(socket: WebSocket, input: Writable): void {
  const end = () => {
    if (!input.writableEnded) input.end();
  };
  socket.on('message', (data, isBinary) => {
    if (input.writableEnded) return;
    if (!isBinary) return end();
    input.write(bytes(data));
  });
  socket.on('close', end);
  socket.on('error', end);
  socket.resume();
}

/**
 * Sends `output` as binary frames, each sent before the next is read (so a slow client slows the
 * command rather than berthd's memory). Resolves when `output` ended, or the socket went away
 * (the rest is then read and dropped, so the command never blocks on a full pipe), or `output`
 * was destroyed.
 */
export async function streamToSocket(output: Readable, socket: WebSocket): Promise<void> {
  let open = true;
  socket.resume(); /* an output socket: only its close matters */
  try {
    for await (const chunk of output) {
      if (!open || socket.readyState !== socket.OPEN) {
        open = false;
        continue;
      }
      await new Promise<void>((resolve) =>
        socket.send(chunk as Buffer, { binary: true }, (err) => {
          if (err) open = false;
          resolve();
        }),
      );
    }
  } catch {
    /* the source was destroyed (a detach): its end, not a failure */
  }
}

/** Calls `onRequest` for every valid control message on `socket`. */
export function onControl(socket: WebSocket, onRequest: (request: ControlRequest) => void): void {
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const request = parseControl(bytes(data).toString('utf8'));
    if (request) onRequest(request);
  });
  socket.on('error', () => undefined);
  socket.resume();
}

/** Starts a normal close (the client sees the end of its stream after everything sent before). */
export function closeSocket(socket: WebSocket | undefined): void {
  if (socket && (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)) socket.close(1000);
}
