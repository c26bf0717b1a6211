// The client's handling of the protocol, against a real HTTP server on a real Unix socket that
// answers as berthd does. Async operations and refused subscriptions are covered here because
// berthd's profile API answers synchronously; the e2e suite drives the real daemon.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Operation } from './api.js';
import { ApiError, BerthClient, DaemonUnreachableError, OperationFailedError } from './client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const sync = (metadata: unknown) => ({
  type: 'sync',
  status: 'Success',
  status_code: 200,
  operation: '',
  error_code: 0,
  error: '',
  metadata,
});
const failure = (code: number, error: string) => ({
  type: 'error',
  status: '',
  status_code: 0,
  operation: '',
  error_code: code,
  error,
  metadata: null,
});
const operation = (status: string, status_code: number, extra: Partial<Operation> = {}): Operation => ({
  id: 'op1',
  class: 'task',
  description: 'Doing things',
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  status,
  status_code,
  resources: null,
  metadata: null,
  may_cancel: false,
  err: '',
  location: 'none',
  ...extra,
});

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

describe('BerthClient', () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  let seen: Seen[];
  let handle: Handler;
  const events = new WebSocketServer({ noServer: true });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-client-'));
    socketPath = join(dir, 'unix.socket');
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        handle(req, body, res);
      });
    });
    server.on('upgrade', (req, socket, head) => {
      seen.push({ method: 'UPGRADE', url: req.url ?? '', headers: req.headers, body: '' });
      if (req.url?.includes('type=bogus')) {
        const body = JSON.stringify(failure(400, 'Invalid event type "bogus"'));
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        return;
      }
      events.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ type: 'logging', metadata: {} })));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });

  after(async () => {
    events.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen = [];
  });

  it('returns the metadata and headers of a sync answer', async () => {
    handle = (_req, _body, res) => reply(res, 200, sync({ name: 'default' }), { ETag: '"abc"' });
    const client = new BerthClient(socketPath);
    const response = await client.request('GET', '/1.0/profiles/default');
    assert.deepEqual(response.envelope.metadata, { name: 'default' });
    assert.equal(response.headers.etag, '"abc"');
    assert.equal(seen[0]?.url, '/1.0/profiles/default');
  });

  it('sends the body as JSON along with the given headers', async () => {
    handle = (_req, _body, res) => reply(res, 200, sync({}));
    await new BerthClient(socketPath).send('PUT', '/1.0/profiles/web', { description: 'x' }, { 'If-Match': '"abc"' });
    assert.equal(seen[0]?.method, 'PUT');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { description: 'x' });
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
    assert.equal(seen[0]?.headers['if-match'], '"abc"');
  });

  it('turns an error envelope into an ApiError with its code and message', async () => {
    handle = (_req, _body, res) => reply(res, 412, failure(412, 'Profile was modified (ETag mismatch)'));
    await assert.rejects(
      new BerthClient(socketPath).send('PUT', '/1.0/profiles/web', {}),
      (err: unknown) =>
        err instanceof ApiError && err.status === 412 && err.message === 'Profile was modified (ETag mismatch)',
    );
  });

  it('turns an answer that is not an envelope into an ApiError naming the status', async () => {
    handle = (_req, _body, res) => reply(res, 502, '<html>bad gateway</html>');
    await assert.rejects(
      new BerthClient(socketPath).get('/1.0'),
      new ApiError(502, 'unexpected answer from berthd (HTTP 502, not JSON)'),
    );
  });

  it('follows an async answer until its operation succeeds', async () => {
    let waits = 0;
    handle = (req, _body, res) => {
      if (req.method === 'POST') {
        reply(
          res,
          202,
          { ...sync(operation('Running', 103)), type: 'async', status: 'Operation created', status_code: 100, operation: '/1.0/operations/op1' },
          { Location: '/1.0/operations/op1' },
        );
      } else {
        waits += 1;
        reply(res, 200, sync(waits < 2 ? operation('Running', 103) : operation('Success', 200, { metadata: { done: true } })));
      }
    };
    const result = await new BerthClient(socketPath).send('POST', '/1.0/things', {});
    assert.deepEqual(result, { done: true });
    assert.deepEqual(
      seen.map((request) => `${request.method} ${request.url}`),
      ['POST /1.0/things', 'GET /1.0/operations/op1/wait?timeout=30', 'GET /1.0/operations/op1/wait?timeout=30'],
    );
  });

  it('throws OperationFailedError with the operation\'s reason when it fails', async () => {
    handle = (req, _body, res) => {
      if (req.method === 'DELETE') {
        reply(res, 202, { ...sync(operation('Running', 103)), type: 'async', status_code: 100, operation: '/1.0/operations/op1' });
      } else {
        reply(res, 200, sync(operation('Failure', 400, { err: 'disk full' })));
      }
    };
    await assert.rejects(
      new BerthClient(socketPath).send('DELETE', '/1.0/things/x'),
      (err: unknown) => err instanceof OperationFailedError && err.message === 'disk full',
    );
  });

  it('waits once for the given timeout and returns the operation as it stands', async () => {
    handle = (_req, _body, res) => reply(res, 200, sync(operation('Running', 103)));
    const result = await new BerthClient(socketPath).waitOperation('op1', 5);
    assert.equal(result.status, 'Running');
    assert.deepEqual(seen.map((request) => request.url), ['/1.0/operations/op1/wait?timeout=5']);
  });

  it('reports a missing socket as an unreachable daemon', async () => {
    const missing = join(dir, 'absent.socket');
    await assert.rejects(
      new BerthClient(missing).get('/1.0'),
      (err: unknown) =>
        err instanceof DaemonUnreachableError &&
        err.code === 'ENOENT' &&
        err.message === `cannot reach berthd: no socket at ${missing} (is berthd running? is BERTH_DIR right?)`,
    );
  });

  it('subscribes to events with the requested types and receives them', async () => {
    let socket: WebSocket | undefined;
    const message = await new Promise<string>((resolve, reject) => {
      new BerthClient(socketPath).subscribe(['lifecycle', 'operation'], resolve).then((open) => {
        socket = open;
      }, reject);
    });
    socket?.terminate();
    assert.deepEqual(JSON.parse(message), { type: 'logging', metadata: {} });
    assert.equal(seen[0]?.url, '/1.0/events?type=lifecycle%2Coperation');
  });

  it('turns a refused subscription into an ApiError with the server\'s message', async () => {
    await assert.rejects(
      new BerthClient(socketPath).subscribe(['bogus'], () => undefined),
      new ApiError(400, 'Invalid event type "bogus"'),
    );
  });
});
