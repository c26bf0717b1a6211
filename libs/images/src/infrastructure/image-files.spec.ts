import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, MalformedRequestError, ValidationError } from '#core';
import { ImageFileStore, type ReceivedUpload } from './image-files.js';

const BOUNDARY = 'spec-boundary-7f3a';
const head = (name: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.tar"\r\nContent-Type: application/octet-stream\r\n\r\n`;
const form = (parts: Array<[string, Buffer]>) =>
  Buffer.concat([...parts.flatMap(([name, data]) => [Buffer.from(head(name)), data, Buffer.from('\r\n')]), Buffer.from(`--${BOUNDARY}--\r\n`)]);

/**
 * ImageFileStore.receive on a real HTTP server: each request's outcome is handed to the test, and
 * the client gets an answer only once receive has settled, on the connection that carried the body.
 */
describe('ImageFileStore.receive: multipart (split image) uploads', () => {
  let berthDir: string;
  let store: ImageFileStore;
  let server: Server;
  let port: number;
  const outcomes: Array<(o: { upload?: ReceivedUpload; err?: unknown }) => void> = [];

  before(async () => {
    berthDir = await mkdtemp(join(tmpdir(), 'berth-image-files-'));
    store = new ImageFileStore(loadConfig({ BERTH_DIR: berthDir }));
    server = createServer((req: IncomingMessage, res) => {
      const settle = outcomes.shift()!;
      store.receive(req).then(
        (upload) => {
          settle({ upload });
          res.end('ok');
        },
        (err: unknown) => {
          settle({ err });
          res.statusCode = 400;
          res.end('refused');
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(berthDir, { recursive: true, force: true });
  });

  /** Sends `body` (or writes `partial` then drops the connection) and returns receive's outcome and the answer. */
  async function send(body: { full: Buffer } | { partial: Buffer }) {
    const outcome = new Promise<{ upload?: ReceivedUpload; err?: unknown }>((r) => outcomes.push(r));
    const answer = new Promise<{ status: number; text: string } | { error: string }>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/1.0/images', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', (err) => resolve({ error: err.message }));
      if ('full' in body) req.end(body.full);
      else req.write(body.partial, () => setImmediate(() => req.destroy()));
    });
    return { outcome: await outcome, answer: await answer };
  }

  const uploads = async () => (existsSync(store.root) ? readdir(store.root) : []);

  it('receives metadata and rootfs parts; the fingerprint is sha256(metadata ‖ rootfs)', async () => {
    const metadata = randomBytes(10_000);
    const rootfs = randomBytes(3_000_000);
    const { outcome, answer } = await send({ full: form([['metadata', metadata], ['rootfs', rootfs]]) });
    assert.equal(outcome.err, undefined);
    const upload = outcome.upload!;
    assert.equal(upload.fingerprint, createHash('sha256').update(metadata).update(rootfs).digest('hex'));
    assert.equal(upload.size, metadata.length + rootfs.length);
    assert.equal(upload.files.kind, 'split');
    if (upload.files.kind !== 'split') return;
    assert.deepEqual(await readFile(upload.files.metadataPath), metadata);
    assert.deepEqual(await readFile(upload.files.rootfsPath), rootfs);
    assert.deepEqual(answer, { status: 200, text: 'ok' });
    await store.discard(upload);
    assert.deepEqual(await uploads(), []);
  });

  it('a part of another name is refused naming it; the rest of the body is dropped, the answer still arrives, no file is left', async () => {
    const { outcome, answer } = await send({ full: form([['metadata', randomBytes(10_000)], ['extra', randomBytes(2_000_000)], ['rootfs', randomBytes(2_000_000)]]) });
    assert.ok(outcome.err instanceof ValidationError, String(outcome.err));
    assert.equal(outcome.err.message, 'Invalid body: unexpected multipart part "extra" (expected metadata and rootfs)');
    assert.deepEqual(answer, { status: 400, text: 'refused' });
    assert.deepEqual(await uploads(), []);
  });

  it('a second metadata part is refused the same way', async () => {
    const { outcome } = await send({ full: form([['metadata', randomBytes(100)], ['metadata', randomBytes(1_000_000)]]) });
    if (outcome.upload) await store.discard(outcome.upload);
    assert.ok(outcome.err instanceof ValidationError, String(outcome.err));
    assert.match(outcome.err.message, /unexpected multipart part "metadata"/);
    assert.deepEqual(await uploads(), []);
  });

  it('a body without its closing boundary is malformed and leaves no file', async () => {
    const body = form([['metadata', randomBytes(100)], ['rootfs', randomBytes(1_000_000)]]);
    const { outcome, answer } = await send({ full: body.subarray(0, body.length - `--${BOUNDARY}--\r\n`.length - 2) });
    assert.ok(outcome.err instanceof MalformedRequestError, String(outcome.err));
    assert.match(outcome.err.message, /^Invalid multipart body: /);
    assert.deepEqual(answer, { status: 400, text: 'refused' });
    assert.deepEqual(await uploads(), []);
  });

  it('a form with only a metadata part is refused', async () => {
    const { outcome } = await send({ full: form([['metadata', randomBytes(100)]]) });
    assert.ok(outcome.err instanceof ValidationError, String(outcome.err));
    assert.equal(outcome.err.message, 'Invalid body: a split image needs both a metadata and a rootfs part');
    assert.deepEqual(await uploads(), []);
  });

  it('a client that goes away in the middle of the rootfs part leaves no file', async () => {
    const { outcome } = await send({ partial: Buffer.concat([Buffer.from(head('metadata')), randomBytes(100), Buffer.from(`\r\n${head('rootfs')}`), randomBytes(1_000_000)]) });
    assert.ok(outcome.err instanceof Error);
    assert.deepEqual(await uploads(), []);
  });
});
