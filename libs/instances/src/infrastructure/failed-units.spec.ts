import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { ContainerState, Runtime } from '#runtime';
import { FailedUnits, parseFailedUnits } from './failed-units.js';

const state = (over: Partial<ContainerState> = {}) =>
  ({ name: 'web', state: 'Running', init: 'systemd', readyMs: 900, startedAt: new Date(1_700_000_000_000), ...over }) as ContainerState;

/** A runtime whose systemctl prints `output` and exits with `code`; counts the runs. */
function runtimeAnswering(output: string, code = 0) {
  let runs = 0;
  const runtime = {
    execStream: (_name: string, argv: string[]) => {
      runs++;
      assert.deepEqual(argv, ['systemctl', '--failed', '--plain', '--no-legend', '--no-pager']);
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      stdout.end(output);
      stderr.end();
      return { stdin: new PassThrough(), stdout, stderr, exited: Promise.resolve({ exitCode: code }), signal: () => undefined, resize: () => undefined };
    },
  } as unknown as Runtime;
  return { runtime, runs: () => runs };
}

describe('FailedUnits', () => {
  it("reads the unit names of systemctl's plain listing", () => {
    assert.deepEqual(parseFailedUnits('berth-fail.service loaded failed failed /usr/bin/false\nssh.service  loaded failed failed OpenBSD Secure Shell server\n'), ['berth-fail.service', 'ssh.service']);
    assert.deepEqual(parseFailedUnits(''), []);
  });

  it('asks systemd once for a few seconds per boot; a list gets the last answer and runs nothing', async () => {
    const { runtime, runs } = runtimeAnswering('x.service loaded failed failed X\n');
    const units = new FailedUnits(runtime);
    assert.equal(await units.of('web', state(), { ask: false }), null, 'nothing read yet');
    assert.deepEqual(await units.of('web', state()), ['x.service']);
    assert.deepEqual(await units.of('web', state()), ['x.service']);
    assert.deepEqual(await units.of('web', state(), { ask: false }), ['x.service']);
    assert.equal(runs(), 1);
    assert.deepEqual(await units.of('web', state({ startedAt: new Date(1_700_000_100_000) })), ['x.service'], 'a new boot is asked again');
    assert.equal(runs(), 2);
  });

  it('is null for another init, before READY=1, and when systemctl fails', async () => {
    const { runtime, runs } = runtimeAnswering('', 1);
    const units = new FailedUnits(runtime);
    assert.equal(await units.of('bb', state({ init: 'other', readyMs: null })), null);
    assert.equal(await units.of('web', state({ readyMs: null })), null);
    assert.equal(runs(), 0);
    assert.equal(await units.of('web', state()), null);
  });
});

describe('FailedUnits, a systemctl that never answers', () => {
  it('answers null after its few seconds, having killed it', async () => {
    const signals: number[] = [];
    const runtime = {
      execStream: () => ({
        stdin: new PassThrough(),
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        exited: new Promise(() => undefined),
        signal: (n: number) => signals.push(n),
      }),
    } as unknown as Runtime;
    const { mock } = await import('node:test');
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const answer = new FailedUnits(runtime).of('web', state());
      mock.timers.tick(3_000);
      assert.equal(await answer, null);
      assert.deepEqual(signals, [9]);
    } finally {
      mock.timers.reset();
    }
  });
});
