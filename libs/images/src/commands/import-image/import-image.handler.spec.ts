import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '#core';
import type { ImportOptions } from '../../domain/image-upload.js';
import { InMemoryImages, recordingImporter, RecordingOperations, scratchImageFiles } from '../../testing/fakes.js';
import { ImportImageCommand } from './import-image.command.js';
import { ImportImageHandler } from './import-image.handler.js';

const IMAGE = Buffer.from('an image tarball, as far as the handler knows');
const FP = createHash('sha256').update(IMAGE).digest('hex');
const OPTIONS: ImportOptions = { public: true, filename: 'tiny.tar', properties: { os: 'debian' }, aliases: [{ name: 'tiny', description: '' }] };

describe('ImportImageHandler', () => {
  let scratch: Awaited<ReturnType<typeof scratchImageFiles>>;
  before(async () => {
    scratch = await scratchImageFiles('berth-import-handler-');
  });
  after(() => scratch.remove());

  function setup() {
    const images = new InMemoryImages();
    const operations = new RecordingOperations();
    const { imported, importer } = recordingImporter(scratch.files);
    return { images, operations, imported, handler: new ImportImageHandler(images.asRepository(), operations.asRunner(), scratch.files, importer) };
  }

  it('receives the body, hashing it, then imports it in a cancellable operation with the options given', async () => {
    const { operations, imported, handler } = setup();
    const view = await handler.execute(new ImportImageCommand(Readable.from([IMAGE]), { kind: 'raw' }, { ...OPTIONS, expectedFingerprint: FP }));
    assert.equal(view.description, 'Importing image');
    assert.equal(view.may_cancel, true);
    assert.deepEqual(view.resources, { images: [`/1.0/images/${FP}`] });
    assert.equal(imported.length, 1);
    assert.equal(imported[0]!.upload.fingerprint, FP);
    assert.equal(imported[0]!.upload.size, IMAGE.length);
    assert.deepEqual(imported[0]!.options, { ...OPTIONS, expectedFingerprint: FP });
    assert.deepEqual(operations.result, { fingerprint: FP, size: IMAGE.length, warnings: [] });
  });

  it('refuses an upload whose fingerprint is not the one announced, or that is already there, before any operation, keeping no file', async () => {
    const { images, operations, imported, handler } = setup();
    const other = 'f'.repeat(64);
    await assert.rejects(
      handler.execute(new ImportImageCommand(Readable.from([IMAGE]), { kind: 'raw' }, { ...OPTIONS, expectedFingerprint: other })),
      (e: unknown) => e instanceof DomainError && e.code === 'IMAGE.FINGERPRINT_MISMATCH' && e.message === `Image fingerprint is ${FP}, expected ${other}`,
    );
    images.add(FP);
    await assert.rejects(
      handler.execute(new ImportImageCommand(Readable.from([IMAGE]), { kind: 'raw' }, OPTIONS)),
      (e: unknown) => e instanceof DomainError && e.code === 'RESOURCE.ALREADY_EXISTS' && e.message === `Image with fingerprint ${FP} already exists`,
    );
    await assert.rejects(handler.execute(new ImportImageCommand(Readable.from([]), { kind: 'raw' }, OPTIONS)), (e: unknown) => e instanceof DomainError && e.message === 'Invalid body: the image upload is empty');
    assert.deepEqual(operations.started, []);
    assert.deepEqual(imported, []);
    assert.deepEqual(await scratch.left(), []);
  });
});
