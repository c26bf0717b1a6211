import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '#core';
import { ImageAliasCreatedEvent } from '../../events/image-events.js';
import { fingerprintOf, InMemoryImages, recordingEvents } from '../../testing/fakes.js';
import { CreateAliasCommand } from './create-alias.command.js';
import { CreateAliasHandler } from './create-alias.handler.js';

const FP = fingerprintOf('ab12');

function setup() {
  const images = new InMemoryImages();
  images.add(FP, ['taken']);
  images.add(fingerprintOf('ab34'));
  const events = recordingEvents();
  return { images, events, handler: new CreateAliasHandler(images.asRepository(), events.bus) };
}

const code = (expected: string, message?: string) => (e: unknown) => e instanceof DomainError && e.code === expected && (message === undefined || e.message === message);

describe('CreateAliasHandler', () => {
  it('points a new alias at the image a unique prefix names, and publishes image-alias-created', async () => {
    const { images, events, handler } = setup();
    await handler.execute(new CreateAliasCommand('debian/12', 'ab12', 'Bookworm'));
    assert.deepEqual(images.aliasTargets(), { taken: FP, 'debian/12': FP });
    assert.equal(images.aliases.get('debian/12')?.description, 'Bookworm');
    assert.deepEqual(events.published, [new ImageAliasCreatedEvent('debian/12')]);
  });

  it('refuses a bad name, a target that is no fingerprint, an unknown or ambiguous one, an alias that exists: nothing saved or published', async () => {
    const { images, events, handler } = setup();
    const cases: [CreateAliasCommand, (e: unknown) => boolean][] = [
      [new CreateAliasCommand('a b', 'ab12', ''), code('REQUEST.INVALID', 'Invalid name: must not contain whitespace or control characters')],
      [new CreateAliasCommand('../x', 'ab12', ''), code('REQUEST.INVALID', 'Invalid name: must not have empty, "." or ".." components')],
      [new CreateAliasCommand('x', 42, ''), code('REQUEST.INVALID', 'Invalid target: must be an image fingerprint')],
      [new CreateAliasCommand('x', 'XYZ', ''), code('REQUEST.INVALID', 'Invalid target: must be a sha256 fingerprint or a prefix of one (hex)')],
      [new CreateAliasCommand('x', 'ffff', ''), code('RESOURCE.NOT_FOUND', 'Image not found: "ffff"')],
      [new CreateAliasCommand('x', 'ab', ''), code('REQUEST.INVALID', 'Invalid fingerprint: prefix "ab" matches 2 images')],
      [new CreateAliasCommand('x', 'ab12', 7), code('REQUEST.INVALID', 'Invalid description: must be a string')],
      [new CreateAliasCommand('taken', 'ab34', ''), code('RESOURCE.ALREADY_EXISTS', 'Image alias "taken" already exists')],
    ];
    for (const [command, check] of cases) await assert.rejects(handler.execute(command), check, JSON.stringify(command));
    assert.deepEqual(images.aliasTargets(), { taken: FP });
    assert.deepEqual(events.published, []);
  });
});
