import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import type { InstanceNics, InstanceProxies } from '#network';
import type { CgroupLimits } from '#quotas';
import type { ContainerState, Runtime } from '#runtime';
import type { DefaultPool, PoolCatalog } from '#storage';
import { InstanceEtagMismatchError } from '../../domain/instance.errors.js';
import type { Admission } from '../../infrastructure/admission.js';
import type { ProfileResolver } from '../../infrastructure/profile-resolver.js';
import { DEFAULT_PROFILE, fakePublisher, fakeRepository, HOST, instanceOf, Journal } from '../../testing/fakes.js';
import { UpdateInstanceCommand } from './update-instance.command.js';
import { UpdateInstanceHandler } from './update-instance.handler.js';

function setup(status: 'Stopped' | 'Running', fail: { nicCheck?: Error; proxies?: Error } = {}) {
  const journal = new Journal();
  const repository = fakeRepository(journal, instanceOf('c1', { status }));
  const profiles = { load: async () => (names: string[]) => names.map(() => DEFAULT_PROFILE) } as unknown as ProfileResolver;
  const admission = { ratio: async () => undefined } as unknown as Admission;
  const container = { name: 'c1', state: status === 'Running' ? 'Running' : 'Stopped', pid: 4242, cgroup: '/berth/c1' } as unknown as ContainerState;
  const runtime = { state: async () => container } as unknown as Runtime;
  const nics = {
    check: async () => {
      journal.note('nics.check');
      if (fail.nicCheck) throw fail.nicCheck;
    },
    assignMacs: () => ({ 'volatile.eth0.hwaddr': '00:16:3e:00:00:02' }),
    sync: async (_h: unknown, pid: number) => (journal.note(`nics.sync ${pid}`), { volatile: { 'volatile.eth0.host_name': 'vethx' }, undo: async () => journal.note('nics.undo') }),
  } as unknown as InstanceNics;
  const proxies = {
    check: () => journal.note('proxies.check'),
    sync: async () => {
      journal.note('proxies.sync');
      if (fail.proxies) throw fail.proxies;
    },
  } as unknown as InstanceProxies;
  const limits = {
    reapply: async (request: { running?: unknown }) => {
      journal.note(`limits.plan ${request.running ? 'running' : 'new'}`);
      journal.note('limits.apply');
      return [{ file: 'memory.limit_in_bytes', requested: '1073741824', actual: '1073741824' }];
    },
  } as unknown as CgroupLimits;
  const pool = { get: async () => ({ blockDevice: async () => ({ kind: 'none', reason: 'tmpfs' }) }) } as unknown as DefaultPool;
  const handler = new UpdateInstanceHandler(repository, profiles, fakePublisher(journal), admission, runtime, nics, proxies, limits, pool, HOST, { has: (p: string) => p === 'default' } as unknown as PoolCatalog);
  return { handler, journal, repository };
}

describe('UpdateInstanceHandler', () => {
  it('records a stopped instance\'s change, gives new nics their MACs, and touches nothing on the host', async () => {
    const { handler, journal, repository } = setup('Stopped');
    const applied = await handler.execute(new UpdateInstanceCommand('c1', 'merge', { config: { 'limits.memory': '1GiB' } }));
    assert.deepEqual(applied, []);
    assert.deepEqual(journal.steps, ['nics.check', 'proxies.check', 'repository.save']);
    const saved = repository.stored.get('c1')!.state;
    assert.equal(saved.config['limits.memory'], '1GiB');
    assert.equal(saved.volatile['volatile.eth0.hwaddr'], '00:16:3e:00:00:02');
    assert.deepEqual(journal.events, ['InstanceUpdatedEvent']);
  });

  it('applies a running instance\'s change live: nics, proxies, then the limits read back', async () => {
    const { handler, journal, repository } = setup('Running');
    const applied = await handler.execute(new UpdateInstanceCommand('c1', 'merge', { config: { 'limits.memory': '1GiB' } }));
    assert.equal(applied.length, 1);
    assert.deepEqual(journal.steps, ['nics.check', 'proxies.check', 'nics.sync 4242', 'proxies.sync', 'limits.plan running', 'limits.apply', 'repository.save']);
    assert.equal(repository.stored.get('c1')!.state.volatile['volatile.eth0.host_name'], 'vethx');
  });

  it('undoes the nics and records nothing when a later host step fails', async () => {
    const { handler, journal, repository } = setup('Running', { proxies: new Error('listen address in use') });
    await assert.rejects(handler.execute(new UpdateInstanceCommand('c1', 'merge', { config: { 'limits.memory': '1GiB' } })), /in use/);
    assert.deepEqual(journal.steps.slice(-2), ['proxies.sync', 'nics.undo']);
    assert.equal(repository.stored.get('c1')!.state.config['limits.memory'], undefined);
    assert.deepEqual(journal.events, []);
  });

  it('refuses a bad key, a nic on a missing network and a stale ETag, recording nothing', async () => {
    const bad = setup('Stopped');
    await assert.rejects(bad.handler.execute(new UpdateInstanceCommand('c1', 'merge', { config: { 'limits.memory': 'lots' } })), ValidationError);
    const nic = setup('Stopped', { nicCheck: new ValidationError('devices["eth1"]["network"]', 'network "nope" does not exist') });
    await assert.rejects(nic.handler.execute(new UpdateInstanceCommand('c1', 'merge', { devices: { eth1: { type: 'nic', network: 'nope' } } })), /nope/);
    const stale = setup('Stopped');
    await assert.rejects(stale.handler.execute(new UpdateInstanceCommand('c1', 'merge', { description: 'x' }, '"0000"')), InstanceEtagMismatchError);
    const pool = setup('Stopped');
    await assert.rejects(
      pool.handler.execute(new UpdateInstanceCommand('c1', 'merge', { devices: { root: { type: 'disk', path: '/', pool: 'nope' } } })),
      (err: unknown) => err instanceof ValidationError && err.message === 'Invalid devices["root"]["pool"]: Storage pool not found: "nope"',
    );
    for (const s of [bad, nic, stale, pool]) {
      assert.equal(s.journal.steps.includes('repository.save'), false);
      assert.equal(s.repository.stored.get('c1')!.state.description, '');
    }
  });
});
