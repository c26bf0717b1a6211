import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstanceHeldError, InstanceStateError } from '../../domain/instance.errors.js';
import { fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { HoldInstanceCommand, ReleaseInstanceCommand } from './hold-instance.command.js';
import { HoldInstanceHandler, ReleaseInstanceHandler } from './hold-instance.handler.js';

describe('HoldInstanceHandler and ReleaseInstanceHandler', () => {
  it('a held instance refuses start, rename and changes with the reason, and may still be deleted; a release lifts it', async () => {
    const journal = new Journal();
    const repository = fakeRepository(journal, instanceOf('web'));
    await new HoldInstanceHandler(repository).execute(new HoldInstanceCommand('web', 'Importing a VM (operation /1.0/operations/x)'));
    const held = await repository.get('web');
    assert.equal(held.state.volatile['volatile.hold'], 'Importing a VM (operation /1.0/operations/x)');
    assert.throws(() => held.assertCan('start'), (e: unknown) => e instanceof InstanceHeldError && /Importing a VM/.test(e.message));
    assert.throws(() => held.rename('web2'), InstanceHeldError);
    assert.throws(() => held.update('merge', { description: 'x' }, () => [], { cpus: [0], memoryBytes: 1n << 30n }), InstanceHeldError);
    held.delete();
    await new ReleaseInstanceHandler(repository).execute(new ReleaseInstanceCommand('web'));
    const released = await repository.get('web');
    assert.equal(released.state.volatile['volatile.hold'], undefined);
    released.assertCan('start');
  });

  it('refuses to hold a running instance', async () => {
    const repository = fakeRepository(new Journal(), instanceOf('web', { status: 'Running' }));
    await assert.rejects(new HoldInstanceHandler(repository).execute(new HoldInstanceCommand('web', 'x')), InstanceStateError);
  });
});
