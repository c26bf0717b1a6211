import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from './api.js';
import type { BerthClient } from './client.js';
import { OperationUpdates } from './operation-updates.js';

/** A client whose event stream the test writes to. */
function fakeClient() {
  let deliver: (text: string) => void = () => undefined;
  let terminated = false;
  const client = {
    subscribe: async (types: readonly string[], onMessage: (text: string) => void) => {
      assert.deepEqual(types, ['operation']);
      deliver = onMessage;
      return { terminate: () => (terminated = true) };
    },
  } as unknown as BerthClient;
  const event = (id: string, status_code: number, metadata: Record<string, unknown> | null) =>
    deliver(JSON.stringify({ type: 'operation', timestamp: '', metadata: { id, status_code, metadata } }));
  return { client, event, raw: (text: string) => deliver(text), terminated: () => terminated };
}

describe('OperationUpdates', () => {
  it('hands on the updates of the followed operation only, those that came before follow() first, in order', async () => {
    const { client, event, raw, terminated } = fakeClient();
    const lines: string[] = [];
    const updates = await OperationUpdates.listen(client, (op: Operation) => lines.push(String(op.metadata?.build_log ?? op.status_code)));
    event('mine', 103, { build_log: 'early one' });
    event('other', 103, { build_log: 'not mine' });
    raw('not json');
    event('mine', 103, { build_log: 'early two' });
    updates.follow('mine');
    event('mine', 103, { build_log: 'late' });
    event('other', 200, null);
    event('mine', 200, null);
    await updates.ended();
    updates.close();
    assert.deepEqual(lines, ['early one', 'early two', 'late', '200']);
    assert.equal(terminated(), true);
  });

  it('ended() gives up after a short wait when the final event never comes', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { client } = fakeClient();
    const updates = await OperationUpdates.listen(client, () => undefined);
    updates.follow('mine');
    let ended = false;
    const waiting = updates.ended().then(() => (ended = true));
    await Promise.resolve();
    assert.equal(ended, false);
    t.mock.timers.tick(5_000);
    await waiting;
    assert.equal(ended, true);
  });
});
