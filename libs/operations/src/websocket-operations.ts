import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { OperationView } from './domain/operation.js';
import { WebsocketTimeoutError } from './domain/operation.errors.js';
import type { OperationContext, OperationRunner } from './operation-runner.js';

/** How long a client has to connect every required socket of a new session (LXD waits 5 s). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The sockets of a session, by fd name (`0`, `1`, `2`, `control`). They arrive paused, so that
 * nothing a client sends before the session listens is lost: `resume()` each once listening.
 */
export interface SessionSockets {
  /** A socket once connected (every required one is, when `run` is called). */
  get(fd: string): WebSocket | undefined;
  /** Calls `listener` when `fd` connects, at once if it already has. */
  onConnect(fd: string, listener: (socket: WebSocket) => void): void;
}

export interface StartWebsocketOperation {
  description: string;
  resources?: Record<string, string[]>;
  /** The sockets a client may connect, each with its own secret. */
  fds: string[];
  /** Those that must all be connected before `run` starts (default: every fd but `control`). */
  required?: string[];
  /** Default 10 s; after it the operation fails and every secret is void. */
  connectTimeoutMs?: number;
  /**
   * Serves the session once the required sockets are connected; its result is the operation's
   * metadata. Sockets still open when it settles are closed.
   */
  run(sockets: SessionSockets, ctx: OperationContext): Promise<Record<string, unknown> | void>;
}

interface Session {
  operationId?: string;
  secrets: Map<string, string>;
  connected: Map<string, WebSocket>;
  listeners: Map<string, Array<(socket: WebSocket) => void>>;
  over: boolean;
}

/**
 * Operations of class `websocket` (LXD's exec and console): each fd of a session gets a secret
 * that a client presents once at `GET /1.0/operations/{id}/websocket?secret=…`. The secrets are
 * only in the answer to the request that created the session: they are never stored in the
 * operation's metadata, so `GET /1.0/operations`, its events and the database never show them.
 */
export class WebsocketOperations {
  private readonly bySecret = new Map<string, Session>();

  constructor(private readonly runner: OperationRunner) {}

  /** Starts the operation; the view returned carries `metadata.fds` (fd name → secret). */
  async start(spec: StartWebsocketOperation): Promise<OperationView> {
    const required = spec.required ?? spec.fds.filter((fd) => fd !== 'control');
    const session: Session = { secrets: new Map(), connected: new Map(), listeners: new Map(), over: false };
    const fds: Record<string, string> = {};
    for (const fd of spec.fds) {
      const secret = randomBytes(32).toString('hex');
      session.secrets.set(secret, fd);
      this.bySecret.set(secret, session);
      fds[fd] = secret;
    }
    const sockets: SessionSockets = {
      get: (fd) => session.connected.get(fd),
      onConnect: (fd, listener) => {
        const socket = session.connected.get(fd);
        if (socket) return listener(socket);
        session.listeners.set(fd, [...(session.listeners.get(fd) ?? []), listener]);
      },
    };
    const view = await this.runner.start({
      class: 'websocket',
      description: spec.description,
      resources: spec.resources,
      run: async (ctx) => {
        try {
          await this.connected(session, required, spec.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, ctx.signal);
          return await spec.run(sockets, ctx);
        } finally {
          this.forget(session);
          for (const socket of session.connected.values()) {
            if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(1000);
          }
        }
      },
    });
    session.operationId = view.id;
    return { ...view, metadata: { ...view.metadata, fds } };
  }

  /**
   * Takes a secret for operation `id`: the secret is void from then on, whatever happens next.
   * Returns the function that hands the upgraded socket to the session, or undefined when the
   * secret does not belong to that operation (or was used already).
   */
  claim(id: string, secret: string): ((socket: WebSocket) => void) | undefined {
    const session = this.bySecret.get(secret);
    if (!session || session.operationId !== id) return undefined;
    const fd = session.secrets.get(secret)!;
    this.bySecret.delete(secret);
    session.secrets.delete(secret);
    return (socket) => {
      if (session.over) return socket.close(1000);
      socket.pause();
      session.connected.set(fd, socket);
      for (const listener of session.listeners.get(fd) ?? []) listener(socket);
      session.listeners.delete(fd);
    };
  }

  private connected(session: Session, required: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    const missing = new Set(required);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (missing.size === 0) {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        reject(new WebsocketTimeoutError());
      }, timeoutMs);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      for (const fd of required) {
        if (session.connected.has(fd)) {
          missing.delete(fd);
          continue;
        }
        const listeners = session.listeners.get(fd) ?? [];
        session.listeners.set(fd, [
          ...listeners,
          () => {
            missing.delete(fd);
            check();
          },
        ]);
      }
      check();
    });
  }

  private forget(session: Session): void {
    session.over = true;
    for (const secret of session.secrets.keys()) this.bySecret.delete(secret);
    session.secrets.clear();
  }
}
