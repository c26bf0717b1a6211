import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '#core';
import { ImageAliasRenamedEvent } from '../../events/image-events.js';
import { fingerprintOf, InMemoryImages, recordingEvents } from '../../testing/fakes.js';
import { RenameAliasCommand } from './rename-alias.command.js';
import { RenameAliasHandler } from './rename-alias.handler.js';

const FP = fingerprintOf('ab');

function setup() {
  const images = new InMemoryImages();
  images.add(FP, ['old', 'other']);
  const events = recordingEvents();
  return { images, events, handler: new RenameAliasHandler(images.asRepository(), events.bus) };
}

describe('RenameAliasHandler', () => {
  it('renames the alias, keeping its target, and publishes image-alias-renamed with the old name', async () => {
    const { images, events, handler } = setup();
    await handler.execute(new RenameAliasCommand('old', 'debian/12'));
    assert.deepEqual(images.aliasTargets(), { other: FP, 'debian/12': FP });
    assert.deepEqual(events.published, [new ImageAliasRenamedEvent('old', 'debian/12')]);
  });

  it('refuses a bad new name, an unknown alias and a name already taken: nothing renamed or published', async () => {
    const { images, events, handler } = setup();
    const code = (expected: string, message: string) => (e: unknown) => e instanceof DomainError && e.code === expected && e.message === message;
    await assert.rejects(handler.execute(new RenameAliasCommand('old', 'with:colon')), code('REQUEST.INVALID', 'Invalid name: must not contain ":"'));
    await assert.rejects(handler.execute(new RenameAliasCommand('old', undefined)), code('REQUEST.INVALID', 'Invalid name: must be a string'));
    await assert.rejects(handler.execute(new RenameAliasCommand('nope', 'x')), code('RESOURCE.NOT_FOUND', 'Image alias not found: "nope"'));
    await assert.rejects(handler.execute(new RenameAliasCommand('old', 'other')), code('RESOURCE.ALREADY_EXISTS', 'Image alias "other" already exists'));
    assert.deepEqual(images.aliasTargets(), { old: FP, other: FP });
    assert.deepEqual(events.published, []);
  });
});
