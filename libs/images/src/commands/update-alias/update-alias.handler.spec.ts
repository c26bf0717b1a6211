import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '#core';
import { ImageAliasUpdatedEvent } from '../../events/image-events.js';
import { fingerprintOf, InMemoryImages, recordingEvents } from '../../testing/fakes.js';
import { UpdateAliasCommand } from './update-alias.command.js';
import { UpdateAliasHandler } from './update-alias.handler.js';

const OLD = fingerprintOf('aa');
const NEW = fingerprintOf('bb');

function setup() {
  const images = new InMemoryImages();
  images.add(OLD, ['debian/12']);
  images.aliases.get('debian/12')!.description = 'Bookworm';
  images.add(NEW);
  const events = recordingEvents();
  return { images, events, handler: new UpdateAliasHandler(images.asRepository(), events.bus) };
}

describe('UpdateAliasHandler', () => {
  it('PUT retargets the alias and replaces its description (absent: empty)', async () => {
    const { images, events, handler } = setup();
    await handler.execute(new UpdateAliasCommand('debian/12', 'replace', 'bb', undefined));
    assert.deepEqual(images.aliasTargets(), { 'debian/12': NEW });
    assert.equal(images.aliases.get('debian/12')?.description, '');
    assert.deepEqual(events.published, [new ImageAliasUpdatedEvent('debian/12')]);
  });

  it('PATCH changes only what it is given', async () => {
    const { images, handler } = setup();
    await handler.execute(new UpdateAliasCommand('debian/12', 'merge', undefined, 'Debian 12'));
    assert.deepEqual(images.aliasTargets(), { 'debian/12': OLD });
    assert.equal(images.aliases.get('debian/12')?.description, 'Debian 12');
    await handler.execute(new UpdateAliasCommand('debian/12', 'merge', 'bb', undefined));
    assert.deepEqual(images.aliasTargets(), { 'debian/12': NEW });
    assert.equal(images.aliases.get('debian/12')?.description, 'Debian 12');
  });

  it('refuses PUT without a target, an unknown image or alias, a bad description: nothing changed or published', async () => {
    const { images, events, handler } = setup();
    const code = (expected: string, message: string) => (e: unknown) => e instanceof DomainError && e.code === expected && e.message === message;
    await assert.rejects(handler.execute(new UpdateAliasCommand('debian/12', 'replace', undefined, 'x')), code('REQUEST.INVALID', 'Invalid target: must be an image fingerprint'));
    await assert.rejects(handler.execute(new UpdateAliasCommand('debian/12', 'merge', 'cc', undefined)), code('RESOURCE.NOT_FOUND', 'Image not found: "cc"'));
    await assert.rejects(handler.execute(new UpdateAliasCommand('nope', 'merge', undefined, 'x')), code('RESOURCE.NOT_FOUND', 'Image alias not found: "nope"'));
    await assert.rejects(handler.execute(new UpdateAliasCommand('debian/12', 'merge', undefined, ['x'])), code('REQUEST.INVALID', 'Invalid description: must be a string'));
    assert.deepEqual(images.aliasTargets(), { 'debian/12': OLD });
    assert.equal(images.aliases.get('debian/12')?.description, 'Bookworm');
    assert.deepEqual(events.published, []);
  });
});
