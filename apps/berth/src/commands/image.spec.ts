import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image, ImageAlias } from '../api.js';
import { UsageError } from '../errors.js';
import { renderList } from '../format.js';
import { aliasCell, aliasMatches, ALIAS_COLUMNS, IMAGE_COLUMNS, imageMatches, parseImageYaml, renderImageInfo } from './image.js';

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
