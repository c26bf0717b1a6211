import { TestHooks } from '#core';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstanceNics } from '#network';
import type { Runtime } from '#runtime';
import type { DefaultPool } from '#storage';
import type { ExecLogs } from '../../infrastructure/exec-logs.js';
import { InstanceStateError } from '../../domain/instance.errors.js';
import type { ResolvedProfiles } from '../../domain/instance.js';
import { fakePublisher, fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { DeleteInstanceCommand } from './delete-instance.command.js';
import { DeleteInstanceHandler } from './delete-instance.handler.js';

function setup(status: 'Stopped' | 'Running', volumeError?: { code: string }, profiles?: ResolvedProfiles) {
  const journal = new Journal();
  const repository = fakeRepository(journal, instanceOf('c1', { status, volatile: { 'volatile.eth0.hwaddr': '00:16:3e:00:00:01' } }, profiles));
  const pool = {
    get: async () => ({
      deleteInstanceVolume: async (name: string) => {
        journal.note(`pool.deleteInstanceVolume ${name}`);
        if (volumeError) throw Object.assign(new Error(volumeError.code), volumeError);
      },
    }),
  } as unknown as DefaultPool;
  const nics = { forget: async (holder: { volatile: Record<string, string> }) => journal.note(`nics.forget ${holder.volatile['volatile.eth0.hwaddr']}`) } as unknown as InstanceNics;
  const runtime = { forget: async (name: string) => journal.note(`runtime.forget ${name}`) } as unknown as Runtime;
  const execLogs = { remove: async (name: string) => journal.note(`execLogs.remove ${name}`) } as unknown as ExecLogs;
  return { handler: new DeleteInstanceHandler(repository, pool, nics, runtime, execLogs, fakePublisher(journal), TestHooks.off()), journal, repository };
}

describe('DeleteInstanceHandler', () => {
  it('refuses a running instance and changes nothing', async () => {
    const { handler, journal, repository } = setup('Running');
    await assert.rejects(handler.execute(new DeleteInstanceCommand('c1')), InstanceStateError);
    assert.deepEqual(journal.steps, []);
    assert.ok(repository.stored.has('c1'));
  });

  it('refuses an instance that security.protection.delete protects, from a profile too, unless forced by Berth itself', async () => {
    const guarded: ResolvedProfiles = [{ name: 'guarded', config: { 'security.protection.delete': 'true' }, devices: {} }];
    const { handler, journal, repository } = setup('Stopped', undefined, guarded);
    await assert.rejects(handler.execute(new DeleteInstanceCommand('c1')), (e: unknown) => e instanceof InstanceStateError && e.message === 'Instance is protected');
    assert.deepEqual(journal.steps, []);
    assert.ok(repository.stored.has('c1'));
    await handler.execute(new DeleteInstanceCommand('c1', true));
    assert.equal(repository.stored.has('c1'), false);
  });

  it('deletes the volume, forgets the DHCP reservations, removes its console and exec logs and the record, and announces it', async () => {
    const { handler, journal, repository } = setup('Stopped');
    await handler.execute(new DeleteInstanceCommand('c1'));
    // Held ("being deleted") first, so that a crash in the cleanup is finished at the next start.
    assert.deepEqual(journal.steps, ['repository.save', 'pool.deleteInstanceVolume c1', 'nics.forget 00:16:3e:00:00:01', 'runtime.forget c1', 'execLogs.remove c1', 'repository.delete']);
    assert.equal(repository.stored.has('c1'), false);
    assert.deepEqual(journal.events, ['InstanceDeletedEvent']);
  });

  it('deletes the record of an instance whose volume is already gone', async () => {
    const { handler, repository } = setup('Stopped', { code: 'STORAGE.VOLUME_NOT_FOUND' });
    await handler.execute(new DeleteInstanceCommand('c1'));
    assert.equal(repository.stored.has('c1'), false);
  });

  it('keeps the record when the volume cannot be deleted', async () => {
    const { handler, repository, journal } = setup('Stopped', { code: 'STORAGE.VOLUME_BUSY' });
    await assert.rejects(handler.execute(new DeleteInstanceCommand('c1')), /VOLUME_BUSY/);
    assert.ok(repository.stored.has('c1'));
    assert.deepEqual(journal.events, []);
  });
});
