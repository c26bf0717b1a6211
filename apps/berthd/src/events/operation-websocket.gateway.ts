import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebsocketOperations } from '#operations';
import type { UpgradeHandler } from './events.gateway.js';

const PATH = /^\/1\.0\/operations\/([^/]+)\/websocket$/;

/**
 * GET /1.0/operations/{id}/websocket?secret=…: one socket of an exec or console session. A
 * secret is taken by the first attempt, so it works once; a wrong or used one is a 403.
 */
export class OperationWebsocketGateway implements UpgradeHandler {
  /** Stdin and console input come in frames of at most this size (LXD's clients send 32 KiB). */
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  constructor(private readonly sessions: WebsocketOperations) {}

  handles(pathname: string): boolean {
    return PATH.test(pathname);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, refuse: (status: number, message: string) => void): void {
    const id = decodeURIComponent(PATH.exec(url.pathname)![1]!);
    const hand = this.sessions.claim(id, url.searchParams.get('secret') ?? '');
    if (!hand) return refuse(403, 'not authorized');
    this.wss.handleUpgrade(req, socket, head, (ws) => hand(ws));
  }

  close(): void {
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    this.wss.close();
  }
}
