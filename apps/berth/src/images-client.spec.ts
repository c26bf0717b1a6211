import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import busboy from 'busboy';
import { dispositionFilename, exportPath, importHeaders, multipartBody, TransferMeter } from './images-client.js';

const FP = 'a'.repeat(60) + '1234';

describe('importHeaders', () => {
  it('sends the file name, the public flag, URL-encoded properties and aliases', () => {
    assert.deepEqual(
      importHeaders('tiny.tar.gz', { alias: ['debian/12', 'a,b'], public: true, property: { os: 'debian', note: 'two words&more' } }),
      {
        'X-LXD-filename': 'tiny.tar.gz',
        'X-LXD-public': 'true',
        'X-LXD-properties': 'os=debian&note=two+words%26more',
        'X-LXD-aliases': 'debian%2F12,a%2Cb',
      },
    );
  });

  it('leaves out the properties and aliases when there are none', () => {
    assert.deepEqual(importHeaders('x.tar', { alias: [], public: false, property: {} }), {
      'X-LXD-filename': 'x.tar',
      'X-LXD-public': 'false',
    });
  });
});

describe('multipartBody', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-multipart-'));
    await writeFile(join(dir, 'meta.tar.gz'), 'METADATA');
    await writeFile(join(dir, 'rootfs.tar.gz'), Buffer.alloc(70_000, 7));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('announces its exact length and parses back into the metadata and rootfs parts', async () => {
    const body = multipartBody([
      { name: 'metadata', file: { path: join(dir, 'meta.tar.gz'), size: 8 } },
      { name: 'rootfs', file: { path: join(dir, 'rootfs.tar.gz'), size: 70_000 } },
    ]);
    const raw = await collectBuffer(body.stream());
    assert.equal(raw.length, body.length);
    const parts = new Map<string, { filename: string; size: number; first: number }>();
    await new Promise<void>((resolve, reject) => {
      const parser = busboy({ headers: { 'content-type': body.contentType } });
      parser.on('file', (name: string, stream, info: { filename: string }) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const all = Buffer.concat(chunks);
          parts.set(name, { filename: info.filename, size: all.length, first: all[0] ?? -1 });
        });
      });
      parser.on('close', resolve);
      parser.on('error', reject);
      parser.end(raw);
    });
    assert.deepEqual(Object.fromEntries(parts), {
      metadata: { filename: 'meta.tar.gz', size: 8, first: 'M'.charCodeAt(0) },
      rootfs: { filename: 'rootfs.tar.gz', size: 70_000, first: 7 },
    });
  });
});

async function collectBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('export paths', () => {
  it('reads the file name of a Content-Disposition header, reduced to a base name', () => {
    assert.equal(dispositionFilename('attachment; filename=tiny.tar.gz'), 'tiny.tar.gz');
    assert.equal(dispositionFilename('attachment; filename="a b.tar"'), 'a b.tar');
    assert.equal(dispositionFilename('attachment; filename=../../etc/passwd'), 'passwd');
    assert.equal(dispositionFilename('attachment; filename=..'), undefined);
    assert.equal(dispositionFilename(undefined), undefined);
  });

  it('keeps the server\'s names in a directory, and uses the given path (plus .root) for a file', () => {
    assert.equal(exportPath({ directory: '/out' }, 'image', 'tiny.tar.gz', FP), '/out/tiny.tar.gz');
    assert.equal(exportPath({ directory: '/out' }, 'image', undefined, FP), `/out/${FP}`);
    assert.equal(exportPath({ directory: '/out' }, 'rootfs', undefined, FP), `/out/${FP}.rootfs`);
    assert.equal(exportPath({ directory: '/out' }, 'rootfs', `${FP}.rootfs`, FP), `/out/${FP}.rootfs`);
    assert.equal(exportPath({ file: '/out/img' }, 'metadata', 'meta', FP), '/out/img');
    assert.equal(exportPath({ file: '/out/img' }, 'rootfs', 'rootfs', FP), '/out/img.root');
  });
});

describe('TransferMeter', () => {
  it('counts the bytes that flow through its taps, and draws nothing off a terminal', async () => {
    const meter = new TransferMeter('Uploading', 10, false);
    const tap = meter.tap();
    tap.end(Buffer.from('0123456789'));
    assert.equal(await text(tap), '0123456789');
    assert.equal(meter.bytes, 10);
    meter.stop();
  });
});
