import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MalformedRequestError, ValidationError } from '#core';
import { buildOptions, importOptions, isRecipeUpload, uploadBody, uploadLayout } from './image-upload.js';

const refused = (field: string, reason: string | RegExp) => (e: unknown) =>
  e instanceof ValidationError && e.field === field && (typeof reason === 'string' ? e.message === `Invalid ${field}: ${reason}` : reason.test(e.message));

describe('uploadLayout', () => {
  it('reads anything but multipart/form-data as one raw tarball', () => {
    for (const type of [undefined, '', 'application/octet-stream', 'application/x-tar']) assert.deepEqual(uploadLayout(type), { kind: 'raw' });
  });

  it('reads multipart/form-data with its boundary, quoted or not', () => {
    assert.deepEqual(uploadLayout('multipart/form-data; boundary=abc-123'), { kind: 'multipart', boundary: 'abc-123' });
    assert.deepEqual(uploadLayout('Multipart/Form-Data;boundary="a b:c"'), { kind: 'multipart', boundary: 'a b:c' });
    assert.deepEqual(uploadLayout('multipart/form-data; charset=utf-8; boundary=x'), { kind: 'multipart', boundary: 'x' });
  });

  it('refuses a form without a boundary, or with one RFC 2046 does not allow', () => {
    assert.throws(() => uploadLayout('multipart/form-data'), (e: unknown) => e instanceof MalformedRequestError && e.message === 'Invalid multipart body: Multipart: Boundary not found');
    assert.throws(() => uploadLayout('multipart/form-data; boundary=""'), MalformedRequestError);
    for (const boundary of ['"a\\\\b"', '"ends with space "', 'x'.repeat(71)]) {
      assert.throws(() => uploadLayout(`multipart/form-data; boundary=${boundary}`), MalformedRequestError, boundary);
    }
  });
});

describe('importOptions (LXD upload headers)', () => {
  const FP = 'ab'.repeat(32);

  it('reads every header: fingerprint, public, filename, url-encoded properties and aliases', () => {
    assert.deepEqual(
      importOptions({
        'x-lxd-fingerprint': FP,
        'x-lxd-public': '1',
        'x-lxd-filename': 'tiny.tar.gz',
        'x-lxd-properties': 'os=debian&note=two+words%26more',
        'x-lxd-aliases': 'debian%2F12, a%2Cb',
      }),
      {
        expectedFingerprint: FP,
        public: true,
        filename: 'tiny.tar.gz',
        properties: { os: 'debian', note: 'two words&more' },
        aliases: [
          { name: 'debian/12', description: '' },
          { name: 'a,b', description: '' },
        ],
      },
    );
  });

  it('defaults to a private image without name, properties or aliases', () => {
    assert.deepEqual(importOptions({}), { expectedFingerprint: undefined, public: false, filename: '', properties: {}, aliases: [] });
  });

  it('refuses each bad header, naming it as LXD does', () => {
    assert.throws(() => importOptions({ 'x-lxd-fingerprint': FP.toUpperCase() }), refused('X-LXD-fingerprint', 'must be a sha256 in lowercase hex'));
    assert.throws(() => importOptions({ 'x-lxd-public': 'yes' }), refused('X-LXD-public', 'must be true or false'));
    assert.throws(() => importOptions({ 'x-lxd-filename': '../etc/passwd' }), refused('X-LXD-filename', 'must be a plain file name'));
    assert.throws(() => importOptions({ 'x-lxd-aliases': 'ok,a b' }), refused('X-LXD-aliases[1]', /whitespace/));
    assert.throws(() => importOptions({ 'x-lxd-aliases': 'a,a' }), refused('X-LXD-aliases', 'lists an alias twice'));
    assert.throws(() => importOptions({ 'x-lxd-aliases': 'a%zz' }), refused('X-LXD-aliases[0]', 'is not URL-encoded'));
  });
});

describe('recipe uploads (berth image build)', () => {
  it('are told by their content type', () => {
    assert.equal(isRecipeUpload('application/x-berth-recipe'), true);
    assert.equal(isRecipeUpload('Application/X-Berth-Recipe; charset=binary'), true);
    for (const type of [undefined, 'application/octet-stream', 'application/x-berth-recipes']) assert.equal(isRecipeUpload(type), false);
  });

  it('name the recipe in X-Berth-Recipe (URL-encoded) and take LXD\'s other upload headers', () => {
    assert.deepEqual(buildOptions({ 'x-berth-recipe': encodeURIComponent('/home/me/my recipes/web'), 'x-lxd-aliases': 'web,web%2Fv1', 'x-lxd-public': 'true' }), {
      recipe: '/home/me/my recipes/web',
      public: true,
      filename: '',
      properties: {},
      aliases: [
        { name: 'web', description: '' },
        { name: 'web/v1', description: '' },
      ],
    });
  });

  it('refuse a missing, relative or unnormalised recipe path, and a fingerprint to expect', () => {
    assert.throws(() => buildOptions({}), refused('X-Berth-Recipe', 'is required: the URL-encoded path of the recipe in the upload'));
    for (const recipe of ['images/web', '/images/../etc', '/images//web', '/./web', '/']) {
      assert.throws(() => buildOptions({ 'x-berth-recipe': encodeURIComponent(recipe) }), refused('X-Berth-Recipe', /must be an absolute path without/), recipe);
    }
    assert.throws(() => buildOptions({ 'x-berth-recipe': '%E0%A4%A' }), refused('X-Berth-Recipe', 'is not URL-encoded'));
    assert.throws(() => buildOptions({ 'x-berth-recipe': '/r', 'x-lxd-fingerprint': 'ab'.repeat(32) }), refused('X-LXD-fingerprint', 'does not apply to a recipe build'));
  });
});

describe('uploadBody', () => {
  let server: Server;
  let port: number;
  let read: (body: Readable) => Promise<string>;
  let received: Promise<{ error?: string }>;
  let settle: (outcome: { error?: string }) => void;

  before(async () => {
    server = createServer((req, res) => {
      const body = uploadBody(req);
      body.on('error', (err) => settle({ error: err.message }));
      read(body).then(
        (text) => res.end(text),
        (err: unknown) => {
          res.statusCode = 400;
          res.end(String((err as Error).message));
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function post(body: { full: Buffer } | { partial: Buffer }) {
    received = new Promise((r) => (settle = r));
    return new Promise<{ status: number; text: string } | { error: string }>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/1.0/images', headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', (err) => resolve({ error: err.message }));
      if ('full' in body) req.end(body.full);
      else req.write(body.partial, () => setImmediate(() => req.destroy()));
    });
  }

  it('carries the whole request body', async () => {
    read = async (body) => {
      let size = 0;
      for await (const chunk of body) size += (chunk as Buffer).length;
      return String(size);
    };
    assert.deepEqual(await post({ full: randomBytes(3_000_000) }), { status: 200, text: '3000000' });
  });

  it('a reader that refuses the body early destroys it; the rest is dropped and the answer arrives on the same connection', async () => {
    read = (body) =>
      new Promise((_resolve, reject) => {
        body.once('data', () => {
          body.destroy();
          reject(new Error('refused after the first chunk'));
        });
      });
    assert.deepEqual(await post({ full: randomBytes(8_000_000) }), { status: 400, text: 'refused after the first chunk' });
  });

  it('a client that goes away in the middle fails the body with an error', async () => {
    read = (body) => {
      body.resume();
      return new Promise(() => undefined);
    };
    void post({ partial: randomBytes(1_000_000) });
    const { error } = await received;
    assert.match(error ?? '', /^(aborted|the upload was interrupted)$/);
  });
});
