import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import type { HostCapacity } from '#quotas';
import { ProfileCreatedEvent, ProfileDeletedEvent, ProfileRenamedEvent, ProfileUpdatedEvent } from '../events/profile-events.js';
import { Profile } from './profile.js';
import { DefaultProfileProtectedError, ProfileEtagMismatchError, ProfileInUseError } from './profile.errors.js';

const host: HostCapacity = { cpus: [0, 1], memoryBytes: 8n * 1024n ** 3n };
const restore = () => Profile.restore({ name: 'web', description: 'd', config: { 'user.a': '1', 'user.b': '2' }, devices: { data: { type: 'disk', path: '/srv', source: '/s' } } });

describe('Profile', () => {
  it('raises ProfileCreatedEvent on create', () => {
    const p = Profile.create({ name: 'web', config: { 'user.a': '1', 'limits.memory': '50%' } }, host);
    assert.deepEqual(p.getUncommittedEvents(), [new ProfileCreatedEvent('web')]);
    assert.deepEqual(p.quota, { memoryBytes: 4n * 1024n ** 3n, memoryPercent: 50 });
  });

  it('has an ETag that ignores key order and follows every editable field', () => {
    const a = Profile.restore({ name: 'p', description: '', config: { 'user.a': '1', 'user.b': '2' }, devices: {} });
    const b = Profile.restore({ name: 'p', description: '', config: { 'user.b': '2', 'user.a': '1' }, devices: {} });
    assert.equal(a.etag, b.etag);
    b.patch({ description: 'changed' }, host);
    assert.notEqual(a.etag, b.etag);
  });

  it('accepts a matching If-Match, quoted or not, and refuses a stale one', () => {
    const p = restore();
    p.assertEtag(p.etag);
    p.assertEtag(`"${p.etag}"`);
    p.assertEtag('*');
    assert.throws(() => p.assertEtag('"0000"'), ProfileEtagMismatchError);
  });

  it('PATCH merges config keys and devices; PUT replaces everything', () => {
    const p = restore();
    p.patch({ config: { 'user.b': '3', 'user.c': '4' }, devices: { eth0: { type: 'nic', network: 'berthbr0' } } }, host);
    assert.deepEqual(p.snapshot.config, { 'user.a': '1', 'user.b': '3', 'user.c': '4' });
    assert.deepEqual(Object.keys(p.snapshot.devices), ['data', 'eth0']);
    assert.equal(p.snapshot.description, 'd');
    p.replace({ config: { 'user.z': '9', 'limits.processes': '100' } }, host);
    assert.deepEqual(p.quota, { processes: 100 });
    assert.deepEqual(p.snapshot, { name: 'web', description: '', config: { 'user.z': '9', 'limits.processes': '100' }, devices: {} });
    assert.deepEqual(p.getUncommittedEvents(), [new ProfileUpdatedEvent('web'), new ProfileUpdatedEvent('web')]);
  });

  it('leaves the profile unchanged when an update is invalid', () => {
    const p = restore();
    const before = p.snapshot;
    assert.throws(() => p.patch({ config: { 'nope': '1' } }, host), ValidationError);
    assert.throws(() => p.patch({ config: { 'limits.cpu': '4' } }, host), ValidationError);
    assert.equal(p.snapshot, before);
    assert.deepEqual(p.getUncommittedEvents(), []);
  });

  it('renames, but never the default profile', () => {
    const p = restore();
    p.rename('web2');
    assert.equal(p.name, 'web2');
    assert.deepEqual(p.getUncommittedEvents(), [new ProfileRenamedEvent('web', 'web2')]);
    const d = Profile.restore({ name: 'default', description: '', config: {}, devices: {} });
    assert.throws(() => d.rename('x'), DefaultProfileProtectedError);
  });

  it('refuses deletion while in use, listing the users', () => {
    const p = restore();
    assert.throws(
      () => p.delete(['/1.0/instances/a', '/1.0/instances/b']),
      (e: unknown) => e instanceof ProfileInUseError && e.message === 'Profile "web" is currently in use by: /1.0/instances/a, /1.0/instances/b' && e.usedBy.length === 2,
    );
    assert.deepEqual(p.getUncommittedEvents(), []);
    p.delete([]);
    assert.deepEqual(p.getUncommittedEvents(), [new ProfileDeletedEvent('web')]);
  });
});
