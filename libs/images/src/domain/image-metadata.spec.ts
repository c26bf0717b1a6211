import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImageMetadata } from './image-metadata.js';
import { InvalidImageMetadataError } from './image.errors.js';

const LXD_EXAMPLE = `architecture: amd64
creation_date: 1424284563
expiry_date: 0
properties:
  description: Ubuntu 14.04 LTS Intel 64bit
  os: Ubuntu
  release: trusty 14.04
templates:
  /etc/hosts:
    when:
      - create
      - rename
    template: hosts.tpl
    properties:
      foo: bar
  /etc/hostname:
    when:
      - start
    template: hostname.tpl
    create_only: true
`;

function fieldOf(text: string): string {
  try {
    parseImageMetadata(text);
  } catch (error) {
    assert.ok(error instanceof InvalidImageMetadataError, String(error));
    assert.equal(error.code, 'IMAGE.INVALID_METADATA');
    return error.field;
  }
  return assert.fail('metadata was accepted');
}

describe('parseImageMetadata', () => {
  it("reads LXD's documented example, mapping the architecture alias", () => {
    const metadata = parseImageMetadata(LXD_EXAMPLE);
    assert.equal(metadata.architecture, 'x86_64');
    assert.equal(metadata.creationDate, 1424284563);
    assert.equal(metadata.expiryDate, undefined, 'expiry_date 0 means no expiry');
    assert.deepEqual(metadata.properties, { description: 'Ubuntu 14.04 LTS Intel 64bit', os: 'Ubuntu', release: 'trusty 14.04' });
    assert.deepEqual(metadata.templates, [
      { path: '/etc/hosts', template: 'hosts.tpl', when: ['create', 'rename'], createOnly: false, properties: { foo: 'bar' } },
      { path: '/etc/hostname', template: 'hostname.tpl', when: ['start'], createOnly: true, properties: {} },
    ]);
  });

  it('requires architecture and creation_date, naming the field', () => {
    assert.equal(fieldOf('creation_date: 1\n'), 'architecture');
    assert.equal(fieldOf('architecture: x86_64\n'), 'creation_date');
    assert.equal(fieldOf('architecture: vax\ncreation_date: 1\n'), 'architecture');
  });

  it('reads numbers as text and accepts only plain decimal seconds', () => {
    for (const value of ['0x10', '1e3', '-1', '1.5', 'yes', '2024-01-01', '[1]', '99999999999999999']) {
      assert.equal(fieldOf(`architecture: x86_64\ncreation_date: ${value}\n`), 'creation_date', value);
    }
    assert.equal(fieldOf('architecture: x86_64\ncreation_date: 1\nexpiry_date: soon\n'), 'expiry_date');
  });

  it('types properties and templates, naming the nested field', () => {
    const base = 'architecture: x86_64\ncreation_date: 1\n';
    assert.equal(fieldOf(`${base}properties: [a]\n`), 'properties');
    assert.equal(fieldOf(`${base}properties:\n  os: {nested: map}\n`), 'properties.os');
    assert.equal(fieldOf(`${base}templates:\n  etc/hostname:\n    when: [create]\n    template: h.tpl\n`), 'templates["etc/hostname"]');
    assert.equal(fieldOf(`${base}templates:\n  /etc/../shadow:\n    when: [create]\n    template: h.tpl\n`), 'templates["/etc/../shadow"]');
    assert.equal(fieldOf(`${base}templates:\n  /etc/hostname:\n    when: [create]\n    template: ../../x\n`), 'templates["/etc/hostname"].template');
    assert.equal(fieldOf(`${base}templates:\n  /etc/hostname:\n    when: [boot]\n    template: h.tpl\n`), 'templates["/etc/hostname"].when');
    assert.equal(fieldOf(`${base}templates:\n  /etc/hostname:\n    when: [create]\n    template: h.tpl\n    create_only: maybe\n`), 'templates["/etc/hostname"].create_only');
  });

  it('takes an empty trigger list as LXD does (`when: []`, `when:` or no when): never rendered', () => {
    const base = 'architecture: x86_64\ncreation_date: 1\ntemplates:\n';
    for (const when of ['    when: []\n', '    when:\n', '']) {
      assert.deepEqual(parseImageMetadata(`${base}  /etc/a:\n${when}    template: a.tpl\n`).templates[0]?.when, [], JSON.stringify(when));
    }
    assert.equal(fieldOf(`${base}  /etc/a:\n    when: start\n    template: a.tpl\n`), 'templates["/etc/a"].when');
  });

  it('refuses duplicate keys, exponential alias expansion and broken documents', () => {
    assert.equal(fieldOf('architecture: x86_64\narchitecture: i686\ncreation_date: 1\n'), 'metadata.yaml');
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)];
    assert.equal(fieldOf(`${laughs.join('\n')}\narchitecture: x86_64\ncreation_date: 1\n`), 'metadata.yaml');
    assert.equal(parseImageMetadata('arch: &a x86_64\narchitecture: *a\ncreation_date: 1\n').architecture, 'x86_64', 'a few aliases are fine');
    assert.equal(fieldOf('architecture: [x86_64\n'), 'metadata.yaml');
  });

  it('keeps a "__proto__" property as data', () => {
    const metadata = parseImageMetadata('architecture: x86_64\ncreation_date: 1\nproperties:\n  __proto__: polluted\n');
    assert.equal(Object.getPrototypeOf(metadata.properties), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(metadata.properties, '__proto__')?.value, 'polluted');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
