import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DefaultPool } from '#storage';
import { fakePublisher, fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { RenameInstanceCommand } from './rename-instance.command.js';
import { RenameInstanceHandler } from './rename-instance.handler.js';

function setup(status: 'Stopped' | 'Running' = 'Stopped') {
  const journal = new Journal();
  const repository = fakeRepository(journal, instanceOf('c1', { status }));
  const pool = { get: async () => ({ renameInstanceVolume: async (from: string, to: string) => journal.note(`pool.renameInstanceVolume ${from} ${to}`) }) } as unknown as DefaultPool;
  return { handler: new RenameInstanceHandler(repository, pool, fakePublisher(journal)), journal, repository };
}

describe('RenameInstanceHandler', () => {
  it('renames the record and the volume, and announces it', async () => {
    const { handler, journal, repository } = setup();
    await handler.execute(new RenameInstanceCommand('c1', 'web'));
    assert.deepEqual(journal.steps, ['pool.renameInstanceVolume c1 web', 'repository.save']);
    assert.deepEqual([...repository.stored.keys()], ['web']);
    assert.deepEqual(journal.events, ['InstanceRenamedEvent']);
  });

  it('refuses a running instance and an invalid name, touching nothing', async () => {
    const running = setup('Running');
    await assert.rejects(running.handler.execute(new RenameInstanceCommand('c1', 'web')), /must be stopped/);
    const stopped = setup();
    await assert.rejects(stopped.handler.execute(new RenameInstanceCommand('c1', 'bad name')), /name/);
    assert.deepEqual([...running.journal.steps, ...stopped.journal.steps], []);
  });
});
