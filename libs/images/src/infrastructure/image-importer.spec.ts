import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestHooks } from '#core';
import type { ImportOptions } from '../domain/image-upload.js';
import { ImageCreatedEvent } from '../events/image-events.js';
import { fingerprintOf, InMemoryImages, recordingEvents, scratchImageFiles } from '../testing/fakes.js';
import { ImageImporter } from './image-importer.js';
import type { ImageVolumes } from './image-volumes.js';
import type { UnpackedImage } from './unpack-image.js';

const OPTIONS: ImportOptions = { public: false, filename: 'tiny.tar.gz', properties: {}, aliases: [{ name: 'tiny', description: '' }] };
const ctx = { signal: new AbortController().signal, progress: async () => undefined };

/** Image volumes that only record what they are asked, with the image files on disk at each step. */
function recordingVolumes(files: () => Promise<string[]>) {
  const steps: string[] = [];
  const volumes = {
    create: async (fingerprint: string) => {
      steps.push(`create ${fingerprint.slice(0, 4)} with ${(await files()).join(',')}`);
      return { metadata: { architecture: 'x86_64', creationDate: 1_700_000_000, properties: {}, templates: [] }, warnings: [] } as unknown as UnpackedImage;
    },
    delete: async (fingerprint: string) => void steps.push(`delete ${fingerprint.slice(0, 4)}`),
  } as unknown as ImageVolumes;
  return { steps, volumes };
}

describe('ImageImporter', () => {
  let scratch: Awaited<ReturnType<typeof scratchImageFiles>>;
  before(async () => {
    scratch = await scratchImageFiles('berth-image-importer-');
  });
  after(() => scratch.remove());

  const upload = (seed: string) =>
    scratch.files.produce(async (path) => {
      await writeFile(path, `image ${seed}`);
      return { fingerprint: fingerprintOf(seed), size: 7 };
    });

  it('seals the volume, keeps the files, then records the image: the row comes last, and the upload goes', async () => {
    const images = new InMemoryImages();
    const { steps, volumes } = recordingVolumes(scratch.left);
    const events = recordingEvents();
    const received = await upload('aa');
    const importer = new ImageImporter(images.asRepository(), volumes, scratch.files, events.bus, TestHooks.off());
    const files = { insert: [] as string[] };
    const insert = images.insert.bind(images);
    images.insert = async (...args) => {
      files.insert = await scratch.left();
      return insert(...args);
    };
    assert.deepEqual(await importer.import(received, OPTIONS, ctx), { fingerprint: fingerprintOf('aa'), size: 7, warnings: [] });
    assert.deepEqual(steps, [`create aa00 with ${received.dir.split('/').pop()}`]);
    assert.deepEqual(files.insert.sort(), [received.dir.split('/').pop(), fingerprintOf('aa')], 'the files are in place before the row is written');
    assert.deepEqual(await scratch.left(), [fingerprintOf('aa')]);
    assert.equal(await readFile(join(scratch.files.root, fingerprintOf('aa')), 'utf8'), 'image aa');
    assert.deepEqual(images.aliasTargets(), { tiny: fingerprintOf('aa') });
    assert.deepEqual(events.published, [new ImageCreatedEvent(fingerprintOf('aa'))]);
  });

  it('a row that cannot be written (an alias taken meanwhile) takes the kept files and the volume with it', async () => {
    const images = new InMemoryImages();
    images.add(fingerprintOf('cc'), ['tiny']);
    const { steps, volumes } = recordingVolumes(async () => []);
    const received = await upload('bb');
    const importer = new ImageImporter(images.asRepository(), volumes, scratch.files, recordingEvents().bus, TestHooks.off());
    await assert.rejects(importer.import(received, OPTIONS, ctx), { code: 'RESOURCE.ALREADY_EXISTS', message: 'Image alias "tiny" already exists' });
    assert.deepEqual(steps, ['create bb00 with ', 'delete bb00']);
    assert.deepEqual((await scratch.left()).filter((f) => f !== fingerprintOf('aa')), []);
    assert.equal(existsSync(received.dir), false);
    assert.deepEqual([...images.images.keys()], [fingerprintOf('cc')]);
  });
});
