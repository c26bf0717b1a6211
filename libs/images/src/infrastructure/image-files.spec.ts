import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig, MalformedRequestError, ValidationError } from '#core';
import { ImageFileStore, type ReceivedUpload } from './image-files.js';

const BOUNDARY = 'spec-boundary-7f3a';
const head = (name: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.tar"\r\nContent-Type: application/octet-stream\r\n\r\n`;
const form = (parts: Array<[string, Buffer]>) =>
  Buffer.concat([...parts.flatMap(([name, data]) => [Buffer.from(head(name)), data, Buffer.from('\r\n')]), Buffer.from(`--${BOUNDARY}--\r\n`)]);

/** ImageFileStore.receive of a split image: a body as the HTTP edge hands it over, a plain stream. */
describe('ImageFileStore.receive: multipart (split image) uploads', () => {
  let berthDir: string;
  let store: ImageFileStore;

  before(async () => {
    berthDir = await mkdtemp(join(tmpdir(), 'berth-image-files-'));
    store = new ImageFileStore(loadConfig({ BERTH_DIR: berthDir }));
  });
  after(async () => {
    await rm(berthDir, { recursive: true, force: true });
  });

  /**
   * Receives `body` (or `partial`, after which the stream fails as an interrupted request does) and
   * returns receive's outcome and whether the body was destroyed, which tells the edge to drop the rest.
   */
  async function send(body: { full: Buffer } | { partial: Buffer }) {
    const stream = new PassThrough();
    if ('full' in body) stream.end(body.full);
    else stream.write(body.partial, () => setImmediate(() => stream.destroy(new Error('the upload was interrupted'))));
    const outcome = await store.receive(stream, { kind: 'multipart', boundary: BOUNDARY }).then(
      (upload) => ({ upload, err: undefined }),
      (err: unknown) => ({ upload: undefined, err }),
    );
    return { outcome, destroyed: stream.destroyed };
  }

  const uploads = async () => (existsSync(store.root) ? readdir(store.root) : []);

  it('receives metadata and rootfs parts; the fingerprint is sha256(metadata ‖ rootfs)', async () => {
    const metadata = randomBytes(10_000);
    const rootfs = randomBytes(3_000_000);
    const { outcome } = await send({ full: form([['metadata', metadata], ['rootfs', rootfs]]) });
    assert.equal(outcome.err, undefined);
    const upload = outcome.upload!;
    assert.equal(upload.fingerprint, createHash('sha256').update(metadata).update(rootfs).digest('hex'));
    assert.equal(upload.size, metadata.length + rootfs.length);
    assert.equal(upload.files.kind, 'split');
    if (upload.files.kind !== 'split') return;
    assert.deepEqual(await readFile(upload.files.metadataPath), metadata);
    assert.deepEqual(await readFile(upload.files.rootfsPath), rootfs);
    await store.discard(upload);
    assert.deepEqual(await uploads(), []);
  });

  it('a part of another name is refused naming it; the body is destroyed at once, no file is left', async () => {
    const { outcome, destroyed } = await send({ full: form([['metadata', randomBytes(10_000)], ['extra', randomBytes(2_000_000)], ['rootfs', randomBytes(2_000_000)]]) });
    assert.ok(outcome.err instanceof ValidationError, String(outcome.err));
    assert.equal(outcome.err.message, 'Invalid body: unexpected multipart part "extra" (expected metadata and rootfs)');
    assert.equal(destroyed, true);
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
    const { outcome } = await send({ full: body.subarray(0, body.length - `--${BOUNDARY}--\r\n`.length - 2) });
    assert.ok(outcome.err instanceof MalformedRequestError, String(outcome.err));
    assert.match(outcome.err.message, /^Invalid multipart body: /);
    assert.deepEqual(await uploads(), []);
  });

  it('a form with only a metadata part is refused', async () => {
    const { outcome } = await send({ full: form([['metadata', randomBytes(100)]]) });
    assert.ok(outcome.err instanceof ValidationError, String(outcome.err));
    assert.equal(outcome.err.message, 'Invalid body: a split image needs both a metadata and a rootfs part');
    assert.deepEqual(await uploads(), []);
  });

  it('a body that fails in the middle of the rootfs part (the client went away) leaves no file', async () => {
    const { outcome } = await send({ partial: Buffer.concat([Buffer.from(head('metadata')), randomBytes(100), Buffer.from(`\r\n${head('rootfs')}`), randomBytes(1_000_000)]) });
    assert.ok(outcome.err instanceof Error);
    assert.deepEqual(await uploads(), []);
  });

  it('a body that failed before receive started reading it (raw or multipart) fails the upload and leaves no file', async () => {
    for (const layout of [{ kind: 'raw' }, { kind: 'multipart', boundary: BOUNDARY }] as const) {
      const body = new PassThrough();
      body.on('error', () => undefined);
      body.destroy(new Error('the upload was interrupted'));
      await assert.rejects(store.receive(body, layout), /interrupted/, layout.kind);
    }
    assert.deepEqual(await uploads(), []);
  });
});
