import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PreconditionFailedError, ValidationError } from '#core';
import { assertPoolEtag, describeVolumes, formatSize, poolEtag, poolUsedBy, updatedPoolConfig, volumeView } from './pool-view.js';
import type { VolumeInfo } from './storage-driver.js';

const VOLUMES: VolumeInfo[] = [
  { kind: 'instance', name: 'web', path: '/p/containers/web' },
  { kind: 'image', fingerprint: 'f00d', sealed: true, path: '/p/images/f00d' },
  { kind: 'instance', name: 'lost', path: '/p/containers/lost' },
  { kind: 'image', fingerprint: 'beef', sealed: false, path: '/p/images/beef.filling' },
];

describe('describeVolumes', () => {
  it('types each volume as LXD does, sorted by type then name, with its user; an ownerless one is an orphan', () => {
    const described = describeVolumes(VOLUMES, new Set(['web']));
    assert.deepEqual(
      described.map((v) => [v.type, v.name, v.used_by, v.orphan]),
      [
        ['container', 'lost', [], true],
        ['container', 'web', ['/1.0/instances/web'], false],
        ['image', 'beef', [], true],
        ['image', 'f00d', ['/1.0/images/f00d'], false],
      ],
    );
  });

  it('answers LXD\'s fields only, without the host path or the orphan flag', () => {
    const [web] = describeVolumes([VOLUMES[0]], new Set(['web']));
    assert.deepEqual(volumeView(web), { name: 'web', type: 'container', description: '', content_type: 'filesystem', config: {}, used_by: ['/1.0/instances/web'], location: 'none' });
  });
});

describe('poolUsedBy', () => {
  it('lists instances, images, orphans by their volume URL, and profiles with a disk on the pool, sorted and once each', () => {
    const volumes = describeVolumes(VOLUMES, new Set(['web']));
    const profiles: { name: string; devices: Record<string, Record<string, string>> }[] = [
      { name: 'default', devices: { root: { type: 'disk', path: '/', pool: 'default' } } },
      { name: 'other-pool', devices: { root: { type: 'disk', path: '/', pool: 'fast' } } },
      { name: 'nic-only', devices: { eth0: { type: 'nic', network: 'br0', pool: 'default' } } },
      { name: 'two-disks', devices: { a: { type: 'disk', path: '/a', pool: 'default', source: 'a' }, b: { type: 'disk', path: '/b', pool: 'default', source: 'b' } } },
    ];
    assert.deepEqual(poolUsedBy('default', volumes, profiles), [
      '/1.0/images/f00d',
      '/1.0/instances/web',
      '/1.0/profiles/default',
      '/1.0/profiles/two-disks',
      '/1.0/storage-pools/default/volumes/container/lost',
      '/1.0/storage-pools/default/volumes/image/beef',
    ]);
  });
});

describe('formatSize', () => {
  it('writes the largest binary unit that divides the size, as LXD writes pool sizes', () => {
    assert.equal(formatSize(30 * 2 ** 30), '30GiB');
    assert.equal(formatSize(5 * 2 ** 40), '5TiB');
    assert.equal(formatSize(1536 * 2 ** 20), '1536MiB');
    assert.equal(formatSize(4097), '4097B');
  });
});

describe('updatedPoolConfig', () => {
  const fixed = { source: '/b/disks/default.img', size: '30GiB' };
  const refuses = (fn: () => unknown, field: string, reason: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.field === field && reason.test(e.message));

  it('keeps user keys: PUT replaces them, PATCH merges, an empty value unsets', () => {
    const stored = { 'user.a': '1', 'user.b': '2' };
    assert.deepEqual(updatedPoolConfig('replace', stored, fixed, { 'user.c': '3' }), { 'user.c': '3' });
    assert.deepEqual(updatedPoolConfig('merge', stored, fixed, { 'user.c': '3', 'user.a': '' }), { 'user.b': '2', 'user.c': '3' });
    assert.deepEqual(updatedPoolConfig('merge', stored, fixed, undefined), stored);
  });

  it('takes the driver\'s keys back unchanged (lxc storage edit, pylxd save) and never stores them', () => {
    assert.deepEqual(updatedPoolConfig('replace', {}, fixed, { ...fixed, 'user.a': '1' }), { 'user.a': '1' });
  });

  it('refuses a change to a driver\'s key, any other key, and values that are not strings, naming the key', () => {
    refuses(() => updatedPoolConfig('merge', {}, fixed, { size: '1GiB' }), 'config["size"]', /cannot be changed on Berth's pool \(it is "30GiB"\)/);
    refuses(() => updatedPoolConfig('merge', {}, { source: '/b/storage/default' }, { size: '1GiB' }), 'config["size"]', /cannot be changed/);
    refuses(() => updatedPoolConfig('merge', {}, fixed, { 'volume.size': '1GiB' }), 'config["volume.size"]', /is not supported/);
    refuses(() => updatedPoolConfig('merge', {}, fixed, { 'user.': 'x' }), 'config["user."]', /is not supported/);
    refuses(() => updatedPoolConfig('merge', {}, fixed, { 'user.n': 1 }), 'config["user.n"]', /must be a string/);
    refuses(() => updatedPoolConfig('merge', {}, fixed, ['user.a']), 'config', /must be an object/);
  });
});

describe('poolEtag', () => {
  const pool = { name: 'default', driver: 'btrfs' as const, description: 'd', config: { a: '1', b: '2' } };

  it('ignores key order and changes with what a client can edit', () => {
    assert.equal(poolEtag(pool), poolEtag({ ...pool, config: { b: '2', a: '1' } }));
    assert.notEqual(poolEtag(pool), poolEtag({ ...pool, description: 'e' }));
  });

  it('accepts a matching, weak or wildcard If-Match and refuses a stale one', () => {
    assertPoolEtag(pool, undefined);
    assertPoolEtag(pool, `"${poolEtag(pool)}"`);
    assertPoolEtag(pool, `W/"${poolEtag(pool)}"`);
    assertPoolEtag(pool, '*');
    assert.throws(() => assertPoolEtag(pool, '"stale"'), PreconditionFailedError);
  });
});
