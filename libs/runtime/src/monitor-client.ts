import net from 'node:net';

import { NativeCallError } from './errors.js';

/**
 * One request to a container's monitor over its control socket: a JSON line out, the first
 * JSON line back. `timeoutMs` 0 waits as long as it takes (stop, wait).
 */
export function requestMonitor(socketPath: string, request: object, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        fn();
      }
    };
    const timer =
      timeoutMs > 0
        ? setTimeout(
            () =>
              settle(() =>
                reject(new NativeCallError(`no answer from ${socketPath}`, 'read', 110, 'ETIMEDOUT')),
              ),
            timeoutMs,
          )
        : undefined;
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        const line = buffer.slice(0, newline);
        settle(() => {
          try {
            resolve(JSON.parse(line));
          } catch {
            reject(new NativeCallError(`bad answer from ${socketPath}`, 'read', 71, 'EPROTO'));
          }
        });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          new NativeCallError(
            `connect(2) failed: ${error.code ?? 'EIO'} (${socketPath})`,
            error.syscall ?? 'connect',
            typeof error.errno === 'number' ? Math.abs(error.errno) : 5,
            error.code ?? 'EIO',
          ),
        ),
      ),
    );
    socket.on('close', () =>
      settle(() =>
        reject(new NativeCallError(`the monitor closed ${socketPath}`, 'read', 104, 'ECONNRESET')),
      ),
    );
  });
}
