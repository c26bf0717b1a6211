import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '#core';
import { ImageDeletedEvent } from '../../events/image-events.js';
import type { ImageFileStore } from '../../infrastructure/image-files.js';
import type { ImageVolumes } from '../../infrastructure/image-volumes.js';
import { fingerprintOf, InMemoryImages, recordingEvents, RecordingOperations } from '../../testing/fakes.js';
import { DeleteImageCommand } from './delete-image.command.js';
import { DeleteImageHandler } from './delete-image.handler.js';

const FP = fingerprintOf('ab');

function setup() {
  const images = new InMemoryImages();
  images.add(FP, ['debian/12'], { fileKind: 'split' });
  images.add(fingerprintOf('cd'), ['other']);
  const removed: string[] = [];
  const volumes = { delete: async (fingerprint: string) => void removed.push(`volume ${fingerprint}`) } as unknown as ImageVolumes;
  const files = { remove: async (fingerprint: string, kind: string) => void removed.push(`${kind} files ${fingerprint}`) } as unknown as ImageFileStore;
  const operations = new RecordingOperations();
  const events = recordingEvents();
  return { images, removed, operations, events, handler: new DeleteImageHandler(images.asRepository(), volumes, operations.asRunner(), events.bus, files) };
}

describe('DeleteImageHandler', () => {
  it('deletes in an operation the row and its aliases, then the volume and the files, and publishes image-deleted', async () => {
    const { images, removed, operations, events, handler } = setup();
    const view = await handler.execute(new DeleteImageCommand('ab'));
    assert.equal(view.description, 'Deleting image');
    assert.deepEqual(view.resources, { images: [`/1.0/images/${FP}`] });
    assert.equal(operations.error, undefined);
    assert.deepEqual([...images.images.keys()], [fingerprintOf('cd')]);
    assert.deepEqual(images.aliasTargets(), { other: fingerprintOf('cd') });
    assert.deepEqual(removed, [`volume ${FP}`, `split files ${FP}`]);
    assert.deepEqual(events.published, [new ImageDeletedEvent(FP)]);
  });

  it('refuses a malformed, unknown or ambiguous reference before any operation starts', async () => {
    const { operations, removed, events, handler } = setup();
    const code = (expected: string) => (e: unknown) => e instanceof DomainError && e.code === expected;
    await assert.rejects(handler.execute(new DeleteImageCommand('../x')), code('REQUEST.INVALID'));
    await assert.rejects(handler.execute(new DeleteImageCommand('ef')), code('RESOURCE.NOT_FOUND'));
    await assert.rejects(handler.execute(new DeleteImageCommand('')), code('REQUEST.INVALID'));
    assert.deepEqual(operations.started, []);
    assert.deepEqual(removed, []);
    assert.deepEqual(events.published, []);
  });
});
