import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileRenamedEvent } from '../../events/profile-events.js';
import { InMemoryProfiles, profileState, recordingPublisher } from '../../testing/fakes.js';
import { RenameProfileCommand } from './rename-profile.command.js';
import { RenameProfileHandler } from './rename-profile.handler.js';

function setup() {
  const profiles = new InMemoryProfiles(profileState('default'), profileState('web', { config: { 'user.team': 'ops' } }), profileState('db'));
  const { publisher, published } = recordingPublisher();
  return { profiles, published, handler: new RenameProfileHandler(profiles.repository, publisher) };
}

describe('RenameProfileHandler', () => {
  it('saves the profile under its new name, keeping its config, and publishes profile-renamed', async () => {
    const { profiles, published, handler } = setup();
    await handler.execute(new RenameProfileCommand('web', 'frontend'));
    assert.deepEqual([...profiles.rows.keys()].sort(), ['db', 'default', 'frontend']);
    assert.deepEqual(profiles.rows.get('frontend')!.state.config, { 'user.team': 'ops' });
    assert.deepEqual(published, [new ProfileRenamedEvent('web', 'frontend')]);
  });

  it('refuses to rename the default profile', async () => {
    const { profiles, published, handler } = setup();
    await assert.rejects(handler.execute(new RenameProfileCommand('default', 'base')), { code: 'RESOURCE.FORBIDDEN', message: 'The "default" profile cannot be renamed' });
    assert.ok(profiles.rows.has('default'));
    assert.deepEqual(published, []);
  });

  it('refuses an invalid or taken new name, and a profile that does not exist, changing nothing', async () => {
    const { profiles, published, handler } = setup();
    await assert.rejects(handler.execute(new RenameProfileCommand('web', '')), { code: 'REQUEST.INVALID', field: 'name' });
    // Not a string: the HTTP edge refuses it first; a caller past it still meets the same rule here.
    await assert.rejects(handler.execute(new RenameProfileCommand('web', 42 as unknown as string)), { code: 'REQUEST.INVALID', field: 'name' });
    await assert.rejects(handler.execute(new RenameProfileCommand('web', 'db')), { code: 'RESOURCE.ALREADY_EXISTS', message: 'Profile "db" already exists' });
    await assert.rejects(handler.execute(new RenameProfileCommand('nope', 'other')), { code: 'RESOURCE.NOT_FOUND' });
    assert.deepEqual([...profiles.rows.keys()].sort(), ['db', 'default', 'web']);
    assert.deepEqual(published, []);
  });
});
