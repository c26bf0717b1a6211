import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileCreatedEvent } from '../../events/profile-events.js';
import { HOST, InMemoryProfiles, profileState, recordingPublisher } from '../../testing/fakes.js';
import { CreateProfileCommand } from './create-profile.command.js';
import { CreateProfileHandler } from './create-profile.handler.js';

function setup(...existing: string[]) {
  const profiles = new InMemoryProfiles(...existing.map((name) => profileState(name)));
  const { publisher, published } = recordingPublisher();
  return { profiles, published, handler: new CreateProfileHandler(profiles.repository, publisher, HOST) };
}

describe('CreateProfileHandler', () => {
  it('stores the profile with its quota row and publishes profile-created', async () => {
    const { profiles, published, handler } = setup();
    await handler.execute(new CreateProfileCommand({ name: 'web', description: 'LAMP', config: { 'limits.cpu': '2', 'user.team': 'ops' }, devices: { root: { type: 'disk', path: '/', pool: 'default' } } }));
    assert.deepEqual(profiles.rows.get('web'), {
      state: { name: 'web', description: 'LAMP', config: { 'limits.cpu': '2', 'user.team': 'ops' }, devices: { root: { type: 'disk', path: '/', pool: 'default' } } },
      quota: { cpu: { kind: 'count', count: 2 } },
    });
    assert.deepEqual(published, [new ProfileCreatedEvent('web')]);
  });

  it('refuses an invalid name, config key or limit, storing and publishing nothing', async () => {
    const { profiles, published, handler } = setup();
    await assert.rejects(handler.execute(new CreateProfileCommand({ name: 'a/b' })), { code: 'REQUEST.INVALID', field: 'name' });
    await assert.rejects(handler.execute(new CreateProfileCommand({ name: 'web', config: { 'no.such.key': '1' } })), { code: 'REQUEST.INVALID', field: 'config["no.such.key"]' });
    await assert.rejects(handler.execute(new CreateProfileCommand({ name: 'web', config: { 'limits.cpu': '5' } })), {
      code: 'REQUEST.INVALID',
      message: 'Invalid config["limits.cpu"]: asks for 5 CPUs but the host has 4',
    });
    assert.equal(profiles.rows.size, 0);
    assert.deepEqual(published, []);
  });

  it('refuses a name that is taken with a conflict, publishing nothing', async () => {
    const { profiles, published, handler } = setup('web');
    await assert.rejects(handler.execute(new CreateProfileCommand({ name: 'web', description: 'again' })), { code: 'RESOURCE.ALREADY_EXISTS', message: 'Profile "web" already exists' });
    assert.equal(profiles.rows.get('web')!.state.description, '');
    assert.deepEqual(published, []);
  });
});
