import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { extract } from 'tar-stream';
import { parse as parseYaml } from 'yaml';
import { DomainError, TestHooks } from '#core';
import type { DefaultPool } from '#storage';
import type { OperationContext } from '#operations';
import { InMemoryImages, recordingImporter, scratchImageFiles } from '../testing/fakes.js';
import { ImagePublisher, type PublishSource } from './image-publisher.js';
import { parsePublishOptions } from './publish-options.js';

const ORIGIN = 'architecture: x86_64\ncreation_date: 1700000000\nproperties: {os: debian, release: "12", description: the origin}\ntemplates:\n  /etc/hostname: {when: [create, copy], template: hostname.tpl}\n';
const SOURCE: PublishSource = { name: 'web', architecture: 'x86_64', config: { 'image.description': 'from config', 'image.variant': 'lamp', 'limits.cpu': '2' } };

/** The files of a unified image tarball (gzip), by name. */
async function tarballFiles(path: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const parser = extract();
  const reading = (async () => {
    for await (const entry of parser) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks).toString());
    }
  })();
  for await (const chunk of createReadStream(path).pipe(createGunzip())) parser.write(chunk as Buffer);
  parser.end(undefined);
  await reading;
  return files;
}

describe('ImagePublisher', () => {
  let scratch: Awaited<ReturnType<typeof scratchImageFiles>>;
  /** The instance volumes: web's holds rootfs/, templates/ and its image's metadata.yaml. */
  let volumes: string;

  before(async () => {
    scratch = await scratchImageFiles('berth-publish-handler-');
    volumes = join(scratch.berthDir, 'volumes');
    const volume = join(volumes, 'web');
    await mkdir(join(volume, 'rootfs', 'etc'), { recursive: true });
    await mkdir(join(volume, 'templates'));
    await writeFile(join(volume, 'metadata.yaml'), ORIGIN);
    await writeFile(join(volume, 'templates', 'hostname.tpl'), '{{ container.name }}\n');
    await writeFile(join(volume, 'rootfs', 'etc', 'marker'), 'published\n');
  });
  after(() => scratch.remove());

  const ctx: OperationContext = { signal: new AbortController().signal, progress: async () => undefined };

  function setup(images = new InMemoryImages()) {
    const { imported, importer } = recordingImporter(scratch.files, (upload) => tarballFiles((upload.files as { path: string }).path));
    const pool = { get: async () => ({ instanceVolumePath: (name: string) => join(volumes, name) }) } as unknown as DefaultPool;
    return { imported, publisher: new ImagePublisher(images.asRepository(), scratch.files, importer, pool, TestHooks.off()) };
  }

  it('packs the volume with its templates, properties from the origin, then image.* keys, then the request, and imports it', async () => {
    const { imported, publisher } = setup();
    await publisher.publish(SOURCE, parsePublishOptions({ aliases: [{ name: 'web/v1' }], properties: { release: '12.5' }, public: true }), ctx);
    assert.equal(imported.length, 1);
    const [{ options, seen: metadata }] = imported as [(typeof imported)[0]];
    assert.deepEqual(options, { public: true, filename: '', properties: { release: '12.5' }, aliases: [{ name: 'web/v1', description: '' }] });
    const yaml = parseYaml(metadata.get('metadata.yaml')!) as { architecture: string; properties: Record<string, string>; templates: Record<string, unknown> };
    assert.equal(yaml.architecture, 'x86_64');
    assert.deepEqual(yaml.properties, { os: 'debian', release: '12.5', description: 'from config', variant: 'lamp' });
    assert.deepEqual(yaml.templates, { '/etc/hostname': { when: ['create', 'copy'], create_only: false, template: 'hostname.tpl' } });
    assert.equal(metadata.get('templates/hostname.tpl'), '{{ container.name }}\n');
    assert.equal(metadata.get('rootfs/etc/marker'), 'published\n');
    assert.deepEqual(await scratch.left(), []);
  });

  it('refuses bad aliases, properties or flags (parsed before any operation starts)', () => {
    const invalid = (message: string) => (e: unknown) => e instanceof DomainError && e.code === 'REQUEST.INVALID' && e.message === message;
    assert.throws(() => parsePublishOptions({ aliases: 'web' }), invalid('Invalid aliases: must be a list of {"name", "description"}'));
    assert.throws(() => parsePublishOptions({ aliases: [{ name: 'a' }, { name: 'a' }] }), invalid('Invalid aliases: lists "a" twice'));
    assert.throws(() => parsePublishOptions({ public: 'yes' }), invalid('Invalid public: must be true or false'));
    assert.throws(() => parsePublishOptions({ filename: 'a/b' }), invalid('Invalid filename: must be a plain file name'));
  });

  it('fails when the packed image is already there, importing nothing and keeping no file', async () => {
    class Everything extends InMemoryImages {
      override async exists(): Promise<boolean> {
        return true;
      }
    }
    const { imported, publisher } = setup(new Everything());
    await assert.rejects(publisher.publish(SOURCE, parsePublishOptions({}), ctx), (e: unknown) => e instanceof DomainError && e.code === 'RESOURCE.ALREADY_EXISTS');
    assert.deepEqual(imported, []);
    assert.deepEqual(await scratch.left(), []);
    assert.equal(await readFile(join(volumes, 'web', 'rootfs', 'etc', 'marker'), 'utf8'), 'published\n', 'the volume is only read');
  });
});
