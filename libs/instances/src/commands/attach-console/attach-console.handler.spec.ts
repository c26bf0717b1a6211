import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { Runtime } from '#runtime';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { connectSockets, FakeOperations, fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { AttachConsoleCommand } from './attach-console.command.js';
import { AttachConsoleHandler } from './attach-console.handler.js';

function setup(status: 'Stopped' | 'Running' = 'Running') {
  const journal = new Journal();
  const typed: Buffer[] = [];
  const console = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      typed.push(chunk);
      done();
    },
  });
  const runtime = {
    async attachConsole(name: string) {
      journal.note(`runtime.attachConsole ${name}`);
      return console;
    },
  } as unknown as Runtime;
  const operations = new FakeOperations();
  const sessions = operations.websockets();
  const handler = new AttachConsoleHandler(fakeRepository(journal, instanceOf('c1', { status })), runtime, sessions);
  return { handler, journal, operations, sessions, console, typed };
}

describe('AttachConsoleHandler', () => {
  it('refuses a stopped instance before any operation', async () => {
    const { handler, journal, operations } = setup('Stopped');
    await assert.rejects(handler.execute(new AttachConsoleCommand('c1')), InstanceStateError);
    assert.equal(operations.started.length, 0);
    assert.deepEqual(journal.steps, []);
  });

  it('relays the console on fd 0 once it is connected, until the client closes it; the container runs on', async () => {
    const { handler, journal, operations, sessions, console, typed } = setup();
    const view = await handler.execute(new AttachConsoleCommand('c1'));
    assert.deepEqual(Object.keys(view.metadata.fds as object), ['0', 'control']);
    const { control } = connectSockets(sessions, view, 'control');
    await tick();
    assert.deepEqual(journal.steps, []);

    const { 0: data } = connectSockets(sessions, view, '0');
    await tick();
    assert.deepEqual(journal.steps, ['runtime.attachConsole c1']);
    console.push('login: ');
    data!.receive(Buffer.from('root\n'));
    control!.receive('{"command":"window-resize","args":{"width":"132","height":"43"}}');
    await tick();
    assert.equal(data!.text, 'login: ');
    assert.equal(Buffer.concat(typed).toString(), 'root\n');

    data!.close(1000);
    assert.equal(await operations.outcome(), undefined);
    assert.equal(console.destroyed, true);
    assert.equal(control!.closeCode, 1000);
    assert.deepEqual(journal.steps, ['runtime.attachConsole c1']);
  });
});
