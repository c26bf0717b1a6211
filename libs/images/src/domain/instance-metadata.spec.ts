import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { InvalidImageMetadataError } from './image.errors.js';
import { apiMetadataFromYaml, mergeApiMetadata, metadataYamlFromApi, validateTemplateName } from './instance-metadata.js';

const field = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError || error instanceof InvalidImageMetadataError) return error.field;
    throw error;
  }
  return assert.fail('accepted');
};

const body = {
  architecture: 'x86_64',
  creation_date: 1700000000,
  expiry_date: 0,
  properties: { os: 'debian', release: '12' },
  templates: { '/etc/motd': { when: ['start'], create_only: true, template: 'motd.tpl', properties: { greeting: 'hi' } } },
};

describe('instance metadata (api.ImageMetadata <-> metadata.yaml)', () => {
  it('writes YAML that reads back as the same api.ImageMetadata', () => {
    const { yaml, metadata } = metadataYamlFromApi(body);
    assert.deepEqual(metadata, body);
    assert.deepEqual(apiMetadataFromYaml(yaml), body);
    assert.match(yaml, /^architecture: x86_64$/m);
    assert.doesNotMatch(yaml, /expiry_date/, 'no expiry is left out, as in LXD images');
  });

  it('keeps a string property that looks like a number or a boolean a string', () => {
    const { metadata } = metadataYamlFromApi({ ...body, properties: { release: '12', flag: 'yes', empty: '' } });
    assert.deepEqual(metadata.properties, { release: '12', flag: 'yes', empty: '' });
  });

  it('names the field of a bad value, JSON types first, then the renderer rules', () => {
    assert.equal(field(() => metadataYamlFromApi([])), '(body)');
    assert.equal(field(() => metadataYamlFromApi({ ...body, architecture: 7 })), 'architecture');
    assert.equal(field(() => metadataYamlFromApi({ ...body, architecture: 'pdp11' })), 'architecture');
    assert.equal(field(() => metadataYamlFromApi({ ...body, architecture: undefined })), 'architecture');
    assert.equal(field(() => metadataYamlFromApi({ ...body, creation_date: -1 })), 'creation_date');
    assert.equal(field(() => metadataYamlFromApi({ ...body, properties: { os: 1 } })), 'properties.os');
    assert.equal(field(() => metadataYamlFromApi({ ...body, templates: { '/etc/x': { when: 'start', template: 'x' } } })), 'templates["/etc/x"].when');
    assert.equal(field(() => metadataYamlFromApi({ ...body, templates: { '/etc/x': { when: ['boot'], template: 'x' } } })), 'templates["/etc/x"].when');
    assert.equal(field(() => metadataYamlFromApi({ ...body, templates: { 'etc/x': { when: ['start'], template: 'x' } } })), 'templates["etc/x"]');
    assert.equal(field(() => metadataYamlFromApi({ ...body, templates: { '/etc/x': { when: ['start'], template: '../x' } } })), 'templates["/etc/x"].template');
    assert.equal(field(() => metadataYamlFromApi({ ...body, templates: { '/etc/x': { when: ['start'], template: 'x', create_only: 'yes' } } })), 'templates["/etc/x"].create_only');
  });

  it('PATCH replaces top-level fields and merges properties and templates by key', () => {
    const current = metadataYamlFromApi(body).metadata;
    const merged = mergeApiMetadata(current, { properties: { description: 'd' }, templates: { '/etc/hostname': { when: ['create'], template: 'h.tpl' } }, creation_date: 5 });
    const { metadata } = metadataYamlFromApi(merged);
    assert.deepEqual(metadata.properties, { os: 'debian', release: '12', description: 'd' });
    assert.deepEqual(Object.keys(metadata.templates).sort(), ['/etc/hostname', '/etc/motd']);
    assert.equal(metadata.creation_date, 5);
  });

  it('takes a template name only as a plain file name', () => {
    assert.equal(validateTemplateName('hostname.tpl'), 'hostname.tpl');
    for (const bad of [undefined, '', '.', '..', 'a/b', '/etc/passwd', '../x', 'a\0b', 'x'.repeat(256)]) {
      assert.throws(() => validateTemplateName(bad), (e: unknown) => e instanceof ValidationError && e.field === 'path', String(bad));
    }
  });
});
