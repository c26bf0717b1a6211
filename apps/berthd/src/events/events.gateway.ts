import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { filter } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '#core';
import { EVENT_TYPES, type EventHub, type EventType } from '#operations';
import { errorResponse } from '../http/envelope.js';

/** A listener that cannot keep up is disconnected rather than buffered without bound (as LXD does). */
const MAX_BUFFERED = 8 * 1024 * 1024;

/** Another websocket endpoint served on the same HTTP server. */
export interface UpgradeHandler {
  handles(pathname: string): boolean;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, refuse: (status: number, message: string) => void): void;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' };

/** GET /1.0/events: a websocket of lifecycle, operation and logging events, filtered by `type`. */
export class EventsGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  constructor(private readonly hub: EventHub, private readonly log: Logger) {}

  /** Serves /1.0/events, and hands any other websocket path to the first of `others` that takes it. */
  attach(server: Server, others: UpgradeHandler[] = []): void {
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head, others));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, others: UpgradeHandler[]) {
    const url = new URL(req.url ?? '/', 'http://berth');
    if (url.pathname !== '/1.0/events') {
      const other = others.find((o) => o.handles(url.pathname));
      if (!other) return this.refuse(socket, 404, 'not found');
      return other.upgrade(req, socket, head, url, (status, message) => this.refuse(socket, status, message));
    }
    const requested = (url.searchParams.get('type') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    const unknown = requested.find((t) => !EVENT_TYPES.includes(t as EventType));
    if (unknown) return this.refuse(socket, 400, `Invalid type: unknown event type "${unknown}"`);
    const types = new Set<EventType>(requested.length ? (requested as EventType[]) : EVENT_TYPES);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, types));
  }

  private serve(ws: WebSocket, types: Set<EventType>) {
    const subscription = this.hub.events.pipe(filter((e) => types.has(e.type))).subscribe((event) => {
      if (ws.bufferedAmount > MAX_BUFFERED) {
        this.log.warn('disconnecting a slow /1.0/events listener');
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify(event));
    });
    ws.on('close', () => subscription.unsubscribe());
    ws.on('error', () => subscription.unsubscribe());
    ws.on('message', () => undefined); // listeners only listen
  }

  private refuse(socket: Duplex, status: number, message: string) {
    const body = JSON.stringify(errorResponse(status, message));
    socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  /**
   * Closes every listener with 1001, after up to `graceMs` for clients to leave on their own: a
   * client that has just read the end of its operation (LXD's Go client hands each event to a
   * goroutine) must not read the close first and report it as the operation's error.
   */
  async close(graceMs = 0): Promise<void> {
    for (const deadline = Date.now() + graceMs; this.wss.clients.size > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    this.wss.close();
  }
}
