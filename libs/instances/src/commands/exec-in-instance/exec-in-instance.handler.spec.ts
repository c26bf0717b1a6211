import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { BerthConfig } from '#core';
import { NativeCallError, type ExecExit, type ExecStreamOptions, type Runtime } from '#runtime';
import { InstanceStateError } from '../../domain/instance.errors.js';
import type { InstanceExecEvent } from '../../events/instance-events.js';
import { ExecLogs } from '../../infrastructure/exec-logs.js';
import { connectSockets, DEFAULT_PROFILE, FakeOperations, fakeEventBus, fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { ExecInInstanceCommand, type ExecRequest } from './exec-in-instance.command.js';
import { ExecInInstanceHandler } from './exec-in-instance.handler.js';

const DEFAULT_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };

const request = (overrides: Partial<ExecRequest> = {}): ExecRequest => ({
  command: ['cat'],
  environment: {},
  cwd: '/root',
  uid: 0,
  gid: 0,
  streaming: false,
  interactive: false,
  width: 80,
  height: 24,
  recordOutput: false,
  ...overrides,
});

/** A streamed command: its stdin collected, its output and exit driven by the spec. */
function fakeStream(journal: Journal) {
  const input: Buffer[] = [];
  let settle!: { exit: (e: ExecExit) => void; fail: (err: Error) => void };
  const exited = new Promise<ExecExit>((exit, fail) => (settle = { exit, fail }));
  return {
    stdin: new Writable({
      write(chunk: Buffer, _encoding, done) {
        input.push(chunk);
        done();
      },
    }),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    exited,
    resize: (rows: number, cols: number) => journal.note(`stream.resize ${rows}x${cols}`),
    signal: (signo: number) => journal.note(`stream.signal ${signo}`),
    settle,
    get input() {
      return Buffer.concat(input).toString('utf8');
    },
  };
}

const logsDir = mkdtempSync(path.join(os.tmpdir(), 'berth-exec-'));
after(() => rmSync(logsDir, { recursive: true, force: true }));

function setup(status: 'Stopped' | 'Running' = 'Running') {
  const journal = new Journal();
  const profile = { ...DEFAULT_PROFILE, config: { 'environment.EDITOR': 'vi', 'environment.LANG': 'en_GB.UTF-8' } };
  const repository = fakeRepository(journal, instanceOf('c1', { status, config: { 'environment.TZ': 'UTC', 'environment.EDITOR': 'nano' } }, [profile]));
  const stream = fakeStream(journal);
  const calls: Array<{ argv: string[]; options: ExecStreamOptions }> = [];
  const runtime = {
    async exec(name: string, argv: string[], options: ExecStreamOptions) {
      journal.note(`runtime.exec ${name}`);
      calls.push({ argv, options });
      return { exitCode: 3, stdout: 'out\n', stderr: 'err\n' };
    },
    execStream(name: string, argv: string[], options: ExecStreamOptions) {
      journal.note(`runtime.execStream ${name}`);
      calls.push({ argv, options });
      return stream;
    },
  } as unknown as Runtime;
  const logs = new ExecLogs({ BERTH_DIR: logsDir } as BerthConfig);
  const operations = new FakeOperations();
  const sessions = operations.websockets();
  const handler = new ExecInInstanceHandler(repository, runtime, logs, operations.asRunner(), sessions, fakeEventBus(journal));
  return { handler, journal, operations, sessions, stream, calls, logs };
}

describe('ExecInInstanceHandler', () => {
  it('refuses a stopped instance before any operation', async () => {
    for (const streaming of [false, true]) {
      const { handler, journal, operations } = setup('Stopped');
      await assert.rejects(handler.execute(new ExecInInstanceCommand('c1', request({ streaming }))), InstanceStateError);
      assert.equal(operations.started.length, 0);
      assert.deepEqual(journal.steps, []);
    }
  });

  it('runs the command at once in the instance\'s environment (profiles, then its own keys, then the request\'s) and drops the output', async () => {
    const { handler, journal, operations, calls } = setup();
    await handler.execute(new ExecInInstanceCommand('c1', request({ command: ['env'], environment: { TZ: 'Europe/Paris' }, cwd: '/srv', uid: 1000, gid: 100 })));
    assert.deepEqual(await operations.outcome(), { return: 3, output: {} });
    assert.deepEqual(journal.steps, ['runtime.exec c1']);
    assert.deepEqual(calls, [{ argv: ['env'], options: { env: { ...DEFAULT_ENV, LANG: 'en_GB.UTF-8', EDITOR: 'nano', TZ: 'Europe/Paris' }, cwd: '/srv', uid: 1000, gid: 100 } }]);
    assert.deepEqual(journal.events, ['InstanceExecEvent']);
    const event = journal.published[0] as InstanceExecEvent;
    assert.deepEqual([event.name, event.command], ['c1', ['env']]);
  });

  it('records stdout and stderr with record-output, and answers their log paths', async () => {
    const { handler, operations, logs } = setup();
    await handler.execute(new ExecInInstanceCommand('c1', request({ recordOutput: true })));
    const { return: code, output } = (await operations.outcome()) as { return: number; output: Record<string, string> };
    assert.equal(code, 3);
    assert.deepEqual(Object.keys(output), ['1', '2']);
    assert.match(output['1']!, /^\/1\.0\/instances\/c1\/logs\/exec-output\/exec_[0-9a-f-]{36}\.stdout$/);
    assert.equal((await logs.read('c1', path.basename(output['1']!))).toString(), 'out\n');
    assert.equal((await logs.read('c1', path.basename(output['2']!))).toString(), 'err\n');
  });

  it('streams on fds 0, 1, 2 and control, starting the command only once 0, 1 and 2 are connected', async () => {
    const { handler, journal, operations, sessions, stream, calls } = setup();
    const view = await handler.execute(new ExecInInstanceCommand('c1', request({ streaming: true })));
    assert.deepEqual(Object.keys(view.metadata.fds as object), ['0', '1', '2', 'control']);
    const early = connectSockets(sessions, view, '0', '1', 'control');
    await tick();
    assert.deepEqual(journal.steps, []);
    const { 2: stderr } = connectSockets(sessions, view, '2');
    await tick();
    assert.deepEqual(journal.steps, ['runtime.execStream c1']);
    assert.equal(calls[0]!.options.pty, undefined);

    early['0']!.receive(Buffer.from('hello'));
    early['0']!.receive('');
    early.control!.receive('{"command":"signal","signal":15}');
    early.control!.receive('{"command":"window-resize","args":{"width":"132","height":"43"}}');
    stream.stdout.end('out');
    stream.stderr.end('err');
    stream.settle.exit({ exitCode: 143, signal: 15 });
    assert.deepEqual(await operations.outcome(), { return: 143 });

    assert.equal(stream.input, 'hello');
    assert.equal(stream.stdin.writableEnded, true);
    assert.equal(early['1']!.text, 'out');
    assert.equal(stderr!.text, 'err');
    assert.deepEqual(journal.steps, ['runtime.execStream c1', 'stream.signal 15']);
    assert.deepEqual([early['0'], early['1'], stderr, early.control].map((s) => s!.closeCode), [1000, 1000, 1000, 1000]);
    assert.deepEqual(journal.events, ['InstanceExecEvent']);
  });

  it('gives an interactive command a terminal on fd 0, resized through control', async () => {
    const { handler, journal, operations, sessions, stream, calls } = setup();
    const view = await handler.execute(new ExecInInstanceCommand('c1', request({ command: ['bash'], streaming: true, interactive: true, width: 100, height: 30 })));
    assert.deepEqual(Object.keys(view.metadata.fds as object), ['0', 'control']);
    const { 0: terminal } = connectSockets(sessions, view, '0');
    await tick();
    assert.deepEqual(calls[0]!.options.pty, { rows: 30, cols: 100 });
    const { control } = connectSockets(sessions, view, 'control');
    control!.receive('{"command":"window-resize","args":{"width":"132","height":"43"}}');
    stream.stdout.end('root@c1:~# ');
    stream.stderr.end();
    stream.settle.exit({ exitCode: 0 });
    assert.deepEqual(await operations.outcome(), { return: 0 });
    assert.equal(terminal!.text, 'root@c1:~# ');
    assert.deepEqual(journal.steps, ['runtime.execStream c1', 'stream.resize 43x132']);
  });

  it('answers 127 for a command that does not exist, as a shell does', async () => {
    const { handler, operations, sessions, stream } = setup();
    const view = await handler.execute(new ExecInInstanceCommand('c1', request({ command: ['nope'], streaming: true })));
    connectSockets(sessions, view, '0', '1', '2');
    await tick();
    stream.stdout.end();
    stream.stderr.end();
    stream.settle.fail(new NativeCallError('exec', 'execve', 2, 'ENOENT'));
    assert.deepEqual(await operations.outcome(), { return: 127 });
  });
});
