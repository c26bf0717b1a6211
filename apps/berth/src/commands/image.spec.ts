import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import busboy from 'busboy';
import type { Image, ImageAlias } from '../api.js';
import { UsageError } from '../errors.js';
import { renderList } from '../format.js';
import {
  aliasCell,
  aliasMatches,
  ALIAS_COLUMNS,
  collectKeyValue,
  dispositionFilename,
  exportPath,
  formatInfoDate,
  formatListDate,
  formatSize,
  IMAGE_COLUMNS,
  imageMatches,
  importHeaders,
  multipartBody,
  parseImageYaml,
  renderImageInfo,
  TransferMeter,
} from './image.js';

const FP = 'a'.repeat(60) + '1234';

const image = (extra: Partial<Image> = {}): Image => ({
  fingerprint: FP,
  filename: 'tiny.tar.gz',
  size: 1536,
  architecture: 'x86_64',
  type: 'container',
  public: false,
  auto_update: false,
  cached: false,
  properties: { os: 'debian', release: '12', description: 'Tiny test image' },
  aliases: [{ name: 'tiny/base', description: '' }],
  profiles: ['default'],
  created_at: '2023-11-14T22:13:20.000Z',
  expires_at: '1970-01-01T00:00:00.000Z',
  uploaded_at: '2025-03-02T09:05:00.000Z',
  last_used_at: '1970-01-01T00:00:00.000Z',
  ...extra,
});

describe('collectKeyValue', () => {
  it('collects repeated key=value options, splitting at the first "="', () => {
    const once = collectKeyValue('os=debian', {});
    assert.deepEqual(collectKeyValue('note=a=b', once), { os: 'debian', note: 'a=b' });
    assert.deepEqual(collectKeyValue('empty=', {}), { empty: '' });
  });

  it('refuses an option without a key or without "="', () => {
    for (const value of ['=x', 'novalue', '']) assert.throws(() => collectKeyValue(value, {}), InvalidArgumentError, value);
  });
});

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

describe('formatSize', () => {
  it('prints sizes as LXD does: bytes, then IEC units with two decimals', () => {
    assert.equal(formatSize(0), '0B');
    assert.equal(formatSize(1023), '1023B');
    assert.equal(formatSize(1024), '1.00KiB');
    assert.equal(formatSize(1536), '1.50KiB');
    assert.equal(formatSize(128_900_000), '122.93MiB');
    assert.equal(formatSize(5 * 1024 ** 3), '5.00GiB');
  });
});

describe('dates', () => {
  it('prints the upload date as lxc lists it, in UTC with a 12-hour clock', () => {
    assert.equal(formatListDate('2023-11-14T22:13:20Z'), 'Nov 14, 2023 at 10:13pm (UTC)');
    assert.equal(formatListDate('2025-01-02T00:05:00Z'), 'Jan 2, 2025 at 12:05am (UTC)');
    assert.equal(formatListDate('2025-01-02T12:00:00Z'), 'Jan 2, 2025 at 12:00pm (UTC)');
  });

  it('prints info timestamps, and the epoch or year 1 as never', () => {
    assert.equal(formatInfoDate('2023-11-14T22:13:20Z'), '2023/11/14 22:13 UTC');
    assert.equal(formatInfoDate('1970-01-01T00:00:00Z'), 'never');
    assert.equal(formatInfoDate('0001-01-01T00:00:00Z'), 'never');
    assert.equal(formatListDate(''), '');
  });
});

describe('image listing', () => {
  it('shows the shortest alias and how many more there are', () => {
    assert.equal(aliasCell(image({ aliases: [] })), '');
    assert.equal(
      aliasCell(image({ aliases: [{ name: 'debian/bookworm', description: '' }, { name: 'd12', description: '' }, { name: 'debian/12', description: '' }] })),
      'd12 (2 more)',
    );
  });

  it('lists the columns lxc shows', () => {
    assert.equal(
      renderList([image()], IMAGE_COLUMNS, 'csv'),
      `tiny/base,${FP.slice(0, 12)},no,Tiny test image,x86_64,CONTAINER,1.50KiB,"Mar 2, 2025 at 9:05am (UTC)"`,
    );
    const alias: ImageAlias = { name: 'debian/12', description: 'Bookworm', target: FP, type: 'container' };
    assert.equal(renderList([alias], ALIAS_COLUMNS, 'csv'), `debian/12,${FP.slice(0, 12)},CONTAINER,Bookworm`);
  });

  it('filters on properties, alias parts and fingerprint parts, all of which must match', () => {
    assert.equal(imageMatches(image(), []), true);
    assert.equal(imageMatches(image(), ['os=debian']), true);
    assert.equal(imageMatches(image(), ['os=deb']), false);
    assert.equal(imageMatches(image(), ['tiny']), true);
    assert.equal(imageMatches(image(), ['1234']), true);
    assert.equal(imageMatches(image(), ['tiny', 'release=11']), false);
    const alias: ImageAlias = { name: 'debian/12', description: '', target: FP, type: 'container' };
    assert.equal(aliasMatches(alias, ['bian']), true);
    assert.equal(aliasMatches(alias, ['aaaa']), true);
    assert.equal(aliasMatches(alias, ['1234']), false);
  });
});

describe('renderImageInfo', () => {
  it('prints the image as lxc image info does', () => {
    assert.equal(
      renderImageInfo(image({ aliases: [{ name: 'tiny/base', description: 'base' }] })),
      [
        `Fingerprint: ${FP}`,
        'Size: 1.50KiB',
        'Architecture: x86_64',
        'Type: container',
        'Public: no',
        'Timestamps:',
        '    Created: 2023/11/14 22:13 UTC',
        '    Uploaded: 2025/03/02 09:05 UTC',
        '    Expires: never',
        '    Last used: never',
        'Properties:',
        '    description: Tiny test image',
        '    os: debian',
        '    release: 12',
        'Aliases:',
        '    - tiny/base (base)',
        'Cached: no',
        'Auto update: disabled',
        'Profiles:',
        '    - default',
      ].join('\n'),
    );
  });
});

describe('parseImageYaml', () => {
  it('reads the writable fields, with scalar properties as strings', () => {
    assert.deepEqual(
      parseImageYaml('public: true\nauto_update: false\nproperties:\n  os: debian\n  release: 12\nexpires_at: 2030-01-01T00:00:00Z\nprofiles: [default]\n'),
      { public: true, auto_update: false, properties: { os: 'debian', release: '12' }, expires_at: '2030-01-01T00:00:00Z', profiles: ['default'] },
    );
  });

  it('accepts what "image show" prints and sends only the writable part', () => {
    const shown = `fingerprint: ${FP}\nsize: 10\naliases: []\npublic: false\nproperties: {}\n`;
    assert.deepEqual(parseImageYaml(shown), { public: false, auto_update: false, properties: {}, profiles: [] });
  });

  it('refuses bad YAML, unknown fields and wrong types', () => {
    const cases: [string, RegExp][] = [
      ['public: [1\n', /^invalid YAML: /],
      ['- a\n', /^invalid image: expected a YAML mapping/],
      ['colour: red\n', /^invalid image: unknown field "colour"$/],
      ['public: yes please\n', /^invalid image: public must be true or false$/],
      ['properties: [a]\n', /^invalid image: properties must be a mapping$/],
      ['properties:\n  a: [1]\n', /^invalid image: properties\.a must be a string$/],
      ['expires_at: 5\n', /^invalid image: expires_at must be a date/],
      ['profiles: default\n', /^invalid image: profiles must be a list of names$/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseImageYaml(text), (err: unknown) => err instanceof UsageError && message.test(err.message), text);
    }
  });
});

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
