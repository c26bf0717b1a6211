import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '#core';
import { ImageAliasDeletedEvent } from '../../events/image-events.js';
import { fingerprintOf, InMemoryImages, recordingEvents } from '../../testing/fakes.js';
import { DeleteAliasCommand } from './delete-alias.command.js';
import { DeleteAliasHandler } from './delete-alias.handler.js';

describe('DeleteAliasHandler', () => {
  it('deletes the alias, keeps the image, and publishes image-alias-deleted', async () => {
    const images = new InMemoryImages();
    images.add(fingerprintOf('ab'), ['debian/12', 'bookworm']);
    const events = recordingEvents();
    await new DeleteAliasHandler(images.asRepository(), events.bus).execute(new DeleteAliasCommand('debian/12'));
    assert.deepEqual(images.aliasTargets(), { bookworm: fingerprintOf('ab') });
    assert.equal(images.images.size, 1);
    assert.deepEqual(events.published, [new ImageAliasDeletedEvent('debian/12')]);
  });

  it('refuses an unknown alias with a 404 and publishes nothing', async () => {
    const events = recordingEvents();
    await assert.rejects(
      new DeleteAliasHandler(new InMemoryImages().asRepository(), events.bus).execute(new DeleteAliasCommand('nope')),
      (e: unknown) => e instanceof DomainError && e.code === 'RESOURCE.NOT_FOUND' && e.message === 'Image alias not found: "nope"',
    );
    assert.deepEqual(events.published, []);
  });
});
