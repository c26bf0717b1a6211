import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Profile, type Devices } from '../../domain/profile.js';
import { ProfileUpdatedEvent } from '../../events/profile-events.js';
import { HOST, InMemoryProfiles, profileState, recordingPublisher } from '../../testing/fakes.js';
import { UpdateProfileCommand } from './update-profile.command.js';
import { UpdateProfileHandler } from './update-profile.handler.js';

const WEB = profileState('web', { description: 'LAMP', config: { 'limits.cpu': '2', 'user.team': 'ops' }, devices: { eth0: { type: 'nic', network: 'berthbr0' } } });

function setup() {
  const profiles = new InMemoryProfiles(WEB);
  const { publisher, published } = recordingPublisher();
  return { profiles, published, handler: new UpdateProfileHandler(profiles.repository, publisher, HOST) };
}

describe('UpdateProfileHandler', () => {
  it('replaces every editable field on PUT, the quota row with them, and publishes profile-updated', async () => {
    const { profiles, published, handler } = setup();
    await handler.execute(new UpdateProfileCommand('web', 'replace', { config: { 'limits.memory': '1GiB' } }));
    assert.deepEqual(profiles.rows.get('web'), {
      state: { name: 'web', description: '', config: { 'limits.memory': '1GiB' }, devices: {} },
      quota: { memoryBytes: 1024n ** 3n },
    });
    assert.deepEqual(published, [new ProfileUpdatedEvent('web')]);
  });

  it('merges config keys and devices on PATCH, keeping the rest', async () => {
    const { profiles, handler } = setup();
    await handler.execute(new UpdateProfileCommand('web', 'merge', { config: { 'limits.cpu': '1' }, devices: { root: { type: 'disk', path: '/', pool: 'default' } } }));
    assert.deepEqual(profiles.rows.get('web'), {
      state: { name: 'web', description: 'LAMP', config: { 'limits.cpu': '1', 'user.team': 'ops' }, devices: { ...WEB.devices, root: { type: 'disk', path: '/', pool: 'default' } } },
      quota: { cpu: { kind: 'count', count: 1 } },
    });
  });

  it('applies the change when If-Match names the current ETag, refuses it with 412 when it does not', async () => {
    const { profiles, published, handler } = setup();
    const etag = Profile.restore(WEB).etag;
    await assert.rejects(handler.execute(new UpdateProfileCommand('web', 'merge', { description: 'stale' }, '"0123"')), {
      code: 'RESOURCE.PRECONDITION_FAILED',
      message: 'Profile "web" was changed since it was read (If-Match does not match the current ETag)',
    });
    assert.equal(profiles.rows.get('web')!.state.description, 'LAMP');
    assert.deepEqual(published, []);
    await handler.execute(new UpdateProfileCommand('web', 'merge', { description: 'fresh' }, `"${etag}"`));
    assert.equal(profiles.rows.get('web')!.state.description, 'fresh');
  });

  it('refuses invalid config, changing and publishing nothing', async () => {
    const { profiles, published, handler } = setup();
    await assert.rejects(handler.execute(new UpdateProfileCommand('web', 'merge', { config: { 'limits.memory': '0valueOf' } })), { code: 'REQUEST.INVALID', field: 'config["limits.memory"]' });
    // Not an object: the HTTP edge refuses it first; a caller past it still meets the same rule here.
    await assert.rejects(handler.execute(new UpdateProfileCommand('web', 'replace', { devices: 'eth0' as unknown as Devices })), { code: 'REQUEST.INVALID', field: 'devices' });
    await assert.rejects(handler.execute(new UpdateProfileCommand('nope', 'merge', {})), { code: 'RESOURCE.NOT_FOUND' });
    assert.deepEqual(profiles.rows.get('web'), { state: WEB });
    assert.deepEqual(published, []);
  });
});
