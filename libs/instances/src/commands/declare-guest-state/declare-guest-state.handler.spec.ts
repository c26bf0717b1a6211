import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { fakePublisher, fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { DeclareGuestStateCommand } from './declare-guest-state.command.js';
import { DeclareGuestStateHandler } from './declare-guest-state.handler.js';

function setUp(status: 'Running' | 'Stopped' | 'Frozen') {
  const journal = new Journal();
  const repository = fakeRepository(journal, instanceOf('web', { status }));
  return { handler: new DeclareGuestStateHandler(repository, fakePublisher(journal)), journal, repository };
}

describe('DeclareGuestStateHandler', () => {
  it('Ready records volatile.last_state.ready and the Ready status, and raises instance-ready; Started takes it back', async () => {
    const { handler, journal, repository } = setUp('Running');
    await handler.execute(new DeclareGuestStateCommand('web', 'Ready'));
    let web = await repository.get('web');
    assert.equal(web.state.status, 'Ready');
    assert.equal(web.toView().status_code, 113);
    assert.equal(web.state.volatile['volatile.last_state.ready'], 'true');
    assert.deepEqual(journal.events, ['InstanceReadyEvent']);
    await handler.execute(new DeclareGuestStateCommand('web', 'Started'));
    web = await repository.get('web');
    assert.equal(web.state.status, 'Running');
    assert.equal(web.state.volatile['volatile.last_state.ready'], undefined);
    assert.deepEqual(journal.events, ['InstanceReadyEvent']);
  });

  for (const status of ['Stopped', 'Frozen'] as const) {
    it(`is refused for a ${status} instance, which stays as it was`, async () => {
      const { handler, journal, repository } = setUp(status);
      await assert.rejects(handler.execute(new DeclareGuestStateCommand('web', 'Ready')), InstanceStateError);
      assert.equal((await repository.get('web')).state.status, status);
      assert.deepEqual(journal.events, []);
    });
  }
});
