import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cli } from '../cli.js';
import type { BootState } from './info.js';
import { waitBooted } from './lifecycle.js';

/** A CLI whose client answers GET .../state with each of `states` in turn (the last one again after). */
function cliAnswering(states: Array<{ status: string; boot?: BootState | null }>) {
  const asked: string[] = [];
  let i = 0;
  const cli = {
    client: {
      get: async (path: string) => {
        asked.push(path);
        return states[Math.min(i++, states.length - 1)];
      },
    },
  } as unknown as Cli;
  return { cli, asked };
}
const booting: BootState = { init: 'systemd', ready: false, ready_at: null, ready_ms: null, failed_units: null };
const booted: BootState = { init: 'systemd', ready: true, ready_at: '2026-01-01T00:00:01.000Z', ready_ms: 1000, failed_units: [] };
const noSleep = async () => undefined;

describe('waitBooted', () => {
  it('polls the state of a systemd guest until it reports READY=1', async () => {
    const { cli, asked } = cliAnswering([{ status: 'Running', boot: booting }, { status: 'Running', boot: booting }, { status: 'Running', boot: booted }]);
    await waitBooted(cli, 'web', 60, noSleep);
    assert.deepEqual(asked, ['/1.0/instances/web/state', '/1.0/instances/web/state', '/1.0/instances/web/state']);
  });
  it('does not wait for another init, nor with a daemon that does not say (no boot)', async () => {
    for (const state of [{ status: 'Running', boot: { ...booting, init: 'other' as const } }, { status: 'Running' }]) {
      const { cli, asked } = cliAnswering([state]);
      await waitBooted(cli, 'bb', 60, noSleep);
      assert.equal(asked.length, 1);
    }
  });
  it('fails with a clear message when the guest stops, or is not ready in time', async () => {
    await assert.rejects(waitBooted(cliAnswering([{ status: 'Stopped', boot: null }]).cli, 'web', 60, noSleep), /^Error: Instance web stopped before systemd reported it ready/);
    await assert.rejects(
      waitBooted(cliAnswering([{ status: 'Running', boot: booting }]).cli, 'web', 0, noSleep),
      (e: Error) => e.message === 'Instance web is running, but systemd did not report it ready within 0s (see berth console web --show-log; --no-wait does not wait)',
    );
  });
});
