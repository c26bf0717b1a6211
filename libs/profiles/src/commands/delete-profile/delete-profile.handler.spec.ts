import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileDeletedEvent } from '../../events/profile-events.js';
import { InMemoryProfiles, profileState, recordingPublisher, usageOf } from '../../testing/fakes.js';
import { DeleteProfileCommand } from './delete-profile.command.js';
import { DeleteProfileHandler } from './delete-profile.handler.js';

function setup(users: Record<string, string[]> = {}) {
  const profiles = new InMemoryProfiles(profileState('default'), profileState('web'));
  const { publisher, published } = recordingPublisher();
  return { profiles, published, handler: new DeleteProfileHandler(profiles.repository, usageOf(users), publisher) };
}

describe('DeleteProfileHandler', () => {
  it('deletes an unused profile and publishes profile-deleted', async () => {
    const { profiles, published, handler } = setup({ default: ['/1.0/instances/c1'] });
    await handler.execute(new DeleteProfileCommand('web'));
    assert.deepEqual([...profiles.rows.keys()], ['default']);
    assert.deepEqual(published, [new ProfileDeletedEvent('web')]);
  });

  it('refuses a profile in use, naming its users, and deletes nothing', async () => {
    const { profiles, published, handler } = setup({ web: ['/1.0/instances/c1', '/1.0/instances/c2'] });
    await assert.rejects(handler.execute(new DeleteProfileCommand('web')), {
      code: 'RESOURCE.IN_USE',
      message: 'Profile "web" is currently in use by: /1.0/instances/c1, /1.0/instances/c2',
      usedBy: ['/1.0/instances/c1', '/1.0/instances/c2'],
    });
    assert.ok(profiles.rows.has('web'));
    assert.deepEqual(published, []);
  });

  it('never deletes the default profile, even unused', async () => {
    const { profiles, published, handler } = setup();
    await assert.rejects(handler.execute(new DeleteProfileCommand('default')), { code: 'RESOURCE.FORBIDDEN', message: 'The "default" profile cannot be deleted' });
    assert.ok(profiles.rows.has('default'));
    assert.deepEqual(published, []);
  });

  it('answers not found for a profile that does not exist', async () => {
    const { published, handler } = setup();
    await assert.rejects(handler.execute(new DeleteProfileCommand('nope')), { code: 'RESOURCE.NOT_FOUND', message: 'Profile not found: "nope"' });
    assert.deepEqual(published, []);
  });
});
