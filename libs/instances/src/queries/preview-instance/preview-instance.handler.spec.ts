import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import type { ProfileView } from '#profiles';
import type { HostCapacity } from '#quotas';
import { profileResolver } from '../../testing/fakes.js';
import { PreviewInstanceHandler } from './preview-instance.handler.js';
import { PreviewInstanceQuery } from './preview-instance.query.js';

const host: HostCapacity = { cpus: [0, 1], memoryBytes: 8n * 1024n ** 3n };
const profile = (name: string, config: Record<string, string>, devices: ProfileView['devices']) => ({ name, description: '', config, devices, used_by: [] }) satisfies ProfileView;
const profiles = [
  profile('default', { 'limits.memory': '1GiB' }, { root: { type: 'disk', path: '/', pool: 'default' }, eth0: { type: 'nic', network: 'berthbr0', name: 'eth0' } }),
  profile('lan', { 'user.role': 'web' }, { eth0: { type: 'nic', network: 'lan', name: 'eth0' } }),
];

function handler(): PreviewInstanceHandler {
  return new PreviewInstanceHandler(profileResolver(profiles), host);
}

describe('PreviewInstanceHandler', () => {
  it('expands the profiles in order, then the instance\'s own keys; a later device replaces an earlier one whole', async () => {
    const preview = await handler().execute(
      new PreviewInstanceQuery({ name: 'web', profiles: ['default', 'lan'], config: { 'limits.memory': '2GiB' }, devices: { data: { type: 'disk', path: '/srv', source: '/srv/web' } } }),
    );
    assert.deepEqual(preview, {
      config: { 'limits.memory': '2GiB', 'user.role': 'web' },
      devices: {
        root: { type: 'disk', path: '/', pool: 'default' },
        eth0: { type: 'nic', network: 'lan', name: 'eth0' },
        data: { type: 'disk', path: '/srv', source: '/srv/web' },
      },
    });
  });

  it('applies the default profile when none is named, and none for an empty list', async () => {
    assert.deepEqual(Object.keys((await handler().execute(new PreviewInstanceQuery({ name: 'web' }))).devices), ['root', 'eth0']);
    assert.deepEqual(await handler().execute(new PreviewInstanceQuery({ name: 'web', profiles: [] })), { config: {}, devices: {} });
  });

  it('refuses what a create refuses: a bad name, a missing profile, clashing devices, a bad limit', async () => {
    const refusals: Array<[ConstructorParameters<typeof PreviewInstanceQuery>[0], RegExp]> = [
      [{ name: 'no spaces' }, /Invalid name/],
      [{ name: 'web', profiles: ['default', 'nope'] }, /profile "nope" does not exist/],
      [{ name: 'web', devices: { eth1: { type: 'nic', network: 'lan', name: 'eth0' } } }, /interface "eth0" is already used/],
      [{ name: 'web', devices: { disk: { type: 'disk', path: '/' } } }, /more than one root disk/],
      [{ name: 'web', config: { 'limits.memory': 'lots' } }, /limits\.memory/],
    ];
    for (const [request, message] of refusals) {
      await assert.rejects(handler().execute(new PreviewInstanceQuery(request)), (err: unknown) => err instanceof ValidationError && message.test(err.message), JSON.stringify(request));
    }
  });
});
