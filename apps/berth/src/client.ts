// A small client for berthd's REST API over its Unix socket. Every answer is LXD's envelope;
// error envelopes become an ApiError carrying the HTTP status and the server's message, and
// async answers are followed to the end of their operation.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import WebSocket from 'ws';
import { isFinalStatus, OPERATION_SUCCESS, type Envelope, type Operation } from './api.js';

/** The daemon answered with an error envelope (or with something that is not an envelope). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** An async operation ended in failure or was cancelled. */
export class OperationFailedError extends Error {
  constructor(readonly operation: Operation) {
    super(operation.err || `operation ${operation.id} ended as ${operation.status}`);
    this.name = 'OperationFailedError';
  }
}

/** Nothing answers on the socket. */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    readonly code: string,
  ) {
    super(unreachableMessage(socketPath, code));
    this.name = 'DaemonUnreachableError';
  }
}

function unreachableMessage(socketPath: string, code: string): string {
  switch (code) {
    case 'ENOENT':
      return `cannot reach berthd: no socket at ${socketPath} (is berthd running? is BERTH_DIR right?)`;
    case 'ECONNREFUSED':
      return `cannot reach berthd: nothing listens on ${socketPath} (is berthd running?)`;
    case 'EACCES':
      return `cannot reach berthd: permission denied on ${socketPath}`;
    default:
      return `cannot reach berthd on ${socketPath}: ${code}`;
  }
}

export interface ApiResponse<T> {
  status: number;
  headers: IncomingHttpHeaders;
  envelope: Envelope<T>;
}

export type RequestHeaders = Record<string, string>;

/** How long one long-poll on `/1.0/operations/{id}/wait` may last before it is renewed. */
const WAIT_CHUNK_SECONDS = 30;

export class BerthClient {
  constructor(readonly socketPath: string) {}

  /** One HTTP round trip. Resolves with any non-error envelope; rejects with ApiError otherwise. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: RequestHeaders = {},
  ): Promise<ApiResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.roundTrip(method, path, payload, headers);
    const envelope = parseEnvelope<T>(res.status, res.text);
    if (envelope.type === 'error') {
      throw new ApiError(envelope.error_code || res.status, envelope.error || `HTTP ${res.status}`);
    }
    return { status: res.status, headers: res.headers, envelope };
  }

  /** GET a resource's metadata. */
  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).envelope.metadata;
  }

  /**
   * Send a change and see it through: a sync answer yields its metadata, an async one is
   * waited for and yields the finished operation's metadata (or throws OperationFailedError).
   */
  async send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: RequestHeaders,
  ): Promise<T> {
    const { envelope } = await this.request<T | Operation>(method, path, body, headers);
    if (envelope.type !== 'async') return envelope.metadata as T;
    const operation = await this.waitOperation(operationId(envelope));
    if (operation.status_code !== OPERATION_SUCCESS) throw new OperationFailedError(operation);
    return operation.metadata as T;
  }

  /**
   * Long-poll an operation. With a timeout, one wait of that many seconds and the operation as it
   * then stands; without, until it reaches a final status.
   */
  async waitOperation(id: string, timeoutSeconds?: number): Promise<Operation> {
    const path = (seconds: number) =>
      `/1.0/operations/${encodeURIComponent(id)}/wait?timeout=${seconds}`;
    if (timeoutSeconds !== undefined) return this.get<Operation>(path(timeoutSeconds));
    for (;;) {
      const operation = await this.get<Operation>(path(WAIT_CHUNK_SECONDS));
      if (isFinalStatus(operation.status_code)) return operation;
    }
  }

  /**
   * Subscribe to the events websocket. `onMessage` is attached before the connection opens, so
   * no event that arrives with the handshake is missed; resolves once the server has accepted.
   */
  subscribe(types: readonly string[], onMessage: (text: string) => void): Promise<WebSocket> {
    const query = types.length > 0 ? `?type=${encodeURIComponent(types.join(','))}` : '';
    const socket = new WebSocket(`ws+unix://${this.socketPath}:/1.0/events${query}`);
    socket.on('message', (data) => onMessage(data.toString()));
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('unexpected-response', (_req, res) => {
        readBody(res).then(
          (text) => reject(errorFromEnvelope(res.statusCode ?? 0, text)),
          reject,
        );
      });
      socket.once('error', (err) => reject(this.connectionError(err)));
    });
  }

  /**
   * Stream `body` as the request (an image upload) and see the change through as `send` does.
   * `headers` should carry the Content-Type and, when known, the Content-Length. An error of
   * `body` itself (a file that cannot be read) is thrown as is. `onOperation` is told the id of
   * the operation the answer announces, before it is waited for.
   */
  async sendStream<T = unknown>(method: string, path: string, body: Readable, headers: RequestHeaders, onOperation?: (id: string) => void): Promise<T> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        { socketPath: this.socketPath, method, path, headers: { Host: 'berth', Accept: 'application/json', ...headers } },
        resolve,
      );
      let bodyFailed = false;
      body.once('error', (err) => {
        bodyFailed = true;
        req.destroy();
        reject(err);
      });
      // berthd may answer (a refusal) before it has read the whole body; the answer wins.
      req.once('error', (err) => {
        if (!bodyFailed) reject(this.connectionError(err));
      });
      body.pipe(req);
    });
    const text = await readBody(res);
    body.destroy();
    const envelope = parseEnvelope<T | Operation>(res.statusCode ?? 0, text);
    if (envelope.type === 'error') {
      throw new ApiError(envelope.error_code || (res.statusCode ?? 0), envelope.error || `HTTP ${res.statusCode}`);
    }
    if (envelope.type !== 'async') return envelope.metadata as T;
    const id = operationId(envelope);
    onOperation?.(id);
    const operation = await this.waitOperation(id);
    if (operation.status_code !== OPERATION_SUCCESS) throw new OperationFailedError(operation);
    return operation.metadata as T;
  }

  /**
   * GET a file (an image export). Resolves with the response once it is known to be a success,
   * its body not yet read; an error answer is read and thrown as an ApiError.
   */
  async download(path: string): Promise<IncomingMessage> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ socketPath: this.socketPath, method: 'GET', path, headers: { Host: 'berth' } }, resolve);
      req.once('error', (err) => reject(this.connectionError(err)));
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status !== 200) throw errorFromEnvelope(status, await readBody(res));
    return res;
  }

  private roundTrip(
    method: string,
    path: string,
    payload: string | undefined,
    headers: RequestHeaders,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: {
            Host: 'berth',
            Accept: 'application/json',
            ...(payload === undefined
              ? {}
              : {
                  'Content-Type': 'application/json',
                  'Content-Length': Buffer.byteLength(payload),
                }),
            ...headers,
          },
        },
        (res) => {
          readBody(res).then(
            (text) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }),
            reject,
          );
        },
      );
      req.once('error', (err) => reject(this.connectionError(err)));
      req.end(payload);
    });
  }

  private connectionError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? new DaemonUnreachableError(this.socketPath, code) : err;
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

/** Parse an answer body as an LXD envelope; anything else is an ApiError naming the status. */
export function parseEnvelope<T>(status: number, text: string): Envelope<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(status, `unexpected answer from berthd (HTTP ${status}, not JSON)`);
  }
  if (!isEnvelope(parsed)) {
    throw new ApiError(status, `unexpected answer from berthd (HTTP ${status}, not an API envelope)`);
  }
  return parsed as Envelope<T>;
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'sync' || type === 'async' || type === 'error';
}

function errorFromEnvelope(status: number, text: string): ApiError {
  try {
    const envelope = parseEnvelope(status, text);
    return new ApiError(envelope.error_code || status, envelope.error || `HTTP ${status}`);
  } catch (err) {
    return err instanceof ApiError ? err : new ApiError(status, `HTTP ${status}`);
  }
}

/** The id of the operation an async envelope announces (`/1.0/operations/<id>`). */
export function operationId(envelope: Envelope<unknown>): string {
  const fromUrl = envelope.operation.split('/').pop();
  const fromMetadata = (envelope.metadata as Partial<Operation> | null)?.id;
  const id = fromUrl || fromMetadata;
  if (!id) throw new ApiError(0, 'berthd announced an operation without an id');
  return id;
}
