import { chmod, mkdir, rm, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { filter } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { BERTH_CONFIG, DomainError, LOGGER, NotFoundError, type BerthConfig, type Logger } from '#core';
import { DeclareGuestStateCommand, GetInstanceQuery, GuestApiPort, ListInstancesQuery } from '#instances';
import { EventHub } from '#operations';
import { Runtime, type PeerCredentials } from '#runtime';
import { answer, changes, devlxdEnabled, NOT_AUTHORIZED, NOT_FOUND, type DevlxdAnswer, type GuestInstance } from './devlxd-routes.js';
import { inContainerOf } from './peer.js';

/** A PATCH body is one small JSON object. */
const MAX_BODY = 4096;
const EVENT_TYPES = ['config', 'device'];

type Peer = { ok: true } | { ok: false; status: number; message: string };

/**
 * The guest API (LXD's devlxd) of each running instance: a plain HTTP server on its own unix
 * socket, `$BERTH_DIR/devlxd/<name>/sock` (0666), whose directory the monitor binds read-only at
 * /dev/lxd before init runs. One socket per instance, so a guest reaches only its own; each
 * connection's peer (SO_PEERCRED) must also be a process of that container, as its root
 * (LXD's check). The directory outlives this daemon: one that comes back makes a new socket in
 * it for every running instance, and the guests reach it at the same path.
 */
@Injectable()
export class DevlxdSockets extends GuestApiPort implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly servers = new Map<string, Promise<Server>>();
  private readonly peers = new WeakMap<Socket, PeerCredentials | Error>();
  /** A connection's peer is checked once (its process and its container stay what they were). */
  private readonly verdicts = new WeakMap<Socket, Promise<Peer>>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly root: string;

  constructor(
    @Inject(BERTH_CONFIG) config: BerthConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly runtime: Runtime,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    private readonly hub: EventHub,
  ) {
    super();
    this.root = join(config.BERTH_DIR, 'devlxd');
  }

  directory(name: string): string {
    return join(this.root, name);
  }

  async prepare(name: string, config: Readonly<Record<string, string>>): Promise<string | undefined> {
    if (!devlxdEnabled(config)) return undefined;
    await this.serve(name);
    return this.directory(name);
  }

  /** Every running instance's socket again (a daemon that comes back). */
  async onApplicationBootstrap(): Promise<void> {
    const instances = (await this.queries.execute(new ListInstancesQuery(1))) as Array<{ name: string; status: string; expanded_config: Record<string, string> }>;
    for (const i of instances) {
      if (i.status === 'Stopped' || !devlxdEnabled(i.expanded_config)) continue;
      // One whose container is gone is being settled as Stopped (by the reconciler), which releases it.
      if ((await this.runtime.state(i.name)).state === 'Stopped') continue;
      await this.serve(i.name).catch((err: Error) => this.log.warn({ instance: i.name, err: err.message }, 'guest API socket not served'));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await Promise.all([...this.servers.keys()].map((name) => this.close(name)));
  }

  /** Its container stopped (or did not start): the socket and directory go; a start makes them again. */
  release(name: string): Promise<void> {
    return this.remove(name);
  }

  /** The instance is gone or renamed: its socket and directory go. */
  async remove(name: string): Promise<void> {
    await this.close(name);
    await rm(this.directory(name), { recursive: true, force: true });
  }

  /** Serves the instance's socket unless it is served (or being opened) already. */
  private async serve(name: string): Promise<void> {
    let server = this.servers.get(name);
    if (!server) {
      server = this.open(name);
      this.servers.set(name, server);
      server.catch(() => this.servers.get(name) === server && this.servers.delete(name));
    }
    await server;
  }

  private async open(name: string): Promise<Server> {
    const dir = this.directory(name);
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
    const socket = join(dir, 'sock');
    // A socket left by a daemon that did not stop cleanly refuses the bind.
    await unlink(socket).catch(() => undefined);
    const server = createServer((req, res) => void this.request(name, req, res));
    server.on('connection', (conn: Socket) => this.peers.set(conn, this.credentials(conn)));
    server.on('upgrade', (req: IncomingMessage, conn: Duplex, head: Buffer) => void this.upgrade(name, req, conn, head));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socket, () => {
          server.off('error', reject);
          resolve();
        });
      });
      await chmod(socket, 0o666);
      return server;
    } catch (err) {
      server.close();
      throw err;
    }
  }

  private async close(name: string): Promise<void> {
    const opening = this.servers.get(name);
    if (!opening) return;
    this.servers.delete(name);
    const server = await opening.catch(() => undefined);
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** SO_PEERCRED at once, while the descriptor is surely this connection's. */
  private credentials(conn: Socket): PeerCredentials | Error {
    const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return new Error('no descriptor for the connection');
    try {
      return this.runtime.peerCredentials(fd);
    } catch (err) {
      return err as Error;
    }
  }

  /** LXD's check: the peer is a process of this instance's container (500 otherwise), and its root (401 otherwise). */
  private async checkPeer(name: string, conn: Socket, instance: GuestInstance): Promise<Peer> {
    const cred = this.peers.get(conn);
    if (!cred || cred instanceof Error) return { ok: false, status: 500, message: 'pid not in container?' };
    const { pid } = await this.runtime.state(name);
    if (!(await inContainerOf(cred.pid, pid))) return { ok: false, status: 500, message: 'pid not in container?' };
    const rootUid = Number(instance.config['volatile.idmap.base'] ?? 0);
    if (cred.uid !== rootUid) return { ok: false, status: 401, message: 'Access denied for non-root user' };
    return { ok: true };
  }

  private async instance(name: string): Promise<GuestInstance | undefined> {
    try {
      const { instance } = await this.queries.execute(new GetInstanceQuery(name));
      return { name: instance.name, status: instance.status, config: instance.expanded_config, devices: instance.expanded_devices };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** The instance and the verdict on the peer, or the answer that refuses it. */
  private async admit(name: string, conn: Socket): Promise<GuestInstance | DevlxdAnswer> {
    const instance = await this.instance(name);
    if (!instance) return NOT_FOUND;
    let verdict = this.verdicts.get(conn);
    if (!verdict) this.verdicts.set(conn, (verdict = this.checkPeer(name, conn, instance)));
    const peer = await verdict;
    if (!peer.ok) return { status: peer.status, kind: 'text', body: peer.message };
    if (!devlxdEnabled(instance.config)) return NOT_AUTHORIZED;
    return instance;
  }

  private async request(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const admitted = await this.admit(name, req.socket);
      if ('kind' in admitted) return send(res, admitted);
      const body = req.method === 'PATCH' ? await readBody(req) : '';
      if (body === undefined) return send(res, { status: 400, kind: 'text', body: 'bad request' });
      const url = new URL(req.url ?? '/', 'http://lxd');
      if (url.pathname === '/1.0/events') return send(res, { status: 400, kind: 'text', body: 'websocket upgrade required' });
      const reply = answer(admitted, req.method ?? 'GET', url.pathname, body);
      if (reply.kind !== 'declare') return send(res, reply);
      await this.commands.execute(new DeclareGuestStateCommand(name, reply.state));
      send(res, { status: 200, kind: 'raw', body: '' });
    } catch (err) {
      if (err instanceof DomainError) return send(res, { status: err instanceof NotFoundError ? 404 : 400, kind: 'text', body: err.message });
      this.log.error({ instance: name, err: (err as Error).message }, 'guest API request failed');
      send(res, { status: 500, kind: 'text', body: 'internal error' });
    }
  }

  /** GET /1.0/events as a websocket: `config` and `device` changes of this instance (`?type=` narrows them). */
  private async upgrade(name: string, req: IncomingMessage, conn: Duplex, head: Buffer): Promise<void> {
    const refuse = (status: number, message: string): void =>
      void conn.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\nConnection: close\r\n\r\n${message}\n`);
    try {
      const url = new URL(req.url ?? '/', 'http://lxd');
      if (url.pathname !== '/1.0/events') return refuse(404, 'not found');
      const admitted = await this.admit(name, req.socket);
      if ('kind' in admitted) return refuse(admitted.status, admitted.kind === 'declare' ? 'bad request' : String(admitted.body));
      const requested = (url.searchParams.get('type') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
      const unknown = requested.find((t) => !EVENT_TYPES.includes(t));
      if (unknown) return refuse(400, `Invalid type: unknown event type "${unknown}"`);
      const types = new Set(requested.length ? requested : EVENT_TYPES);
      this.wss.handleUpgrade(req, conn, head, (ws) => this.stream(name, admitted, types, ws));
    } catch (err) {
      this.log.error({ instance: name, err: (err as Error).message }, 'guest API events failed');
      refuse(500, 'internal error');
    }
  }

  private stream(name: string, first: GuestInstance, types: ReadonlySet<string>, ws: WebSocket): void {
    let last = first;
    let queue = Promise.resolve();
    const source = `/1.0/instances/${encodeURIComponent(name)}`;
    const subscription = this.hub.events
      .pipe(
        filter((e) => {
          const m = e.metadata as { action?: string; source?: string };
          return e.type === 'lifecycle' && ((m.action === 'instance-updated' && m.source === source) || m.action === 'profile-updated');
        }),
      )
      .subscribe(() => {
        queue = queue.then(async () => {
          const next = await this.instance(name).catch(() => undefined);
          if (!next) return;
          for (const event of changes(last, next, types)) ws.send(JSON.stringify(event));
          last = next;
        });
      });
    ws.on('close', () => subscription.unsubscribe());
    ws.on('error', () => subscription.unsubscribe());
    ws.on('message', () => undefined);
  }
}

function send(res: ServerResponse, reply: DevlxdAnswer): void {
  if (reply.kind === 'declare') throw new Error('a declaration is not an answer');
  if (reply.kind === 'json') {
    res.writeHead(reply.status, { 'Content-Type': 'application/json' });
    res.end(`${JSON.stringify(reply.body)}\n`);
  } else if (reply.kind === 'raw') {
    res.writeHead(reply.status, { 'Content-Type': 'application/octet-stream' });
    res.end(reply.body);
  } else {
    res.writeHead(reply.status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(`${reply.body}\n`);
  }
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
