import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ValidationError } from '#core';
import { Journal } from '../../testing/fakes.js';
import { DeleteInstanceFileHandler, GetInstanceFileHandler, PushInstanceFileHandler } from './instance-files.handlers.js';
import { DeleteInstanceFileCommand, GetInstanceFileQuery, PushInstanceFileCommand, type GuestEntry, type PushSpec } from './instance-files.messages.js';
import type { InstanceRoot, InstanceRoots } from './instance-root.js';

const ENTRY: GuestEntry = { type: 'directory', uid: 0, gid: 0, mode: 0o755, entries: ['hosts'] };

function setup() {
  const journal = new Journal();
  const pushed: Array<{ spec: PushSpec; body: Readable }> = [];
  const root = {
    read: async (guestPath: string) => (journal.note(`root.read ${guestPath}`), ENTRY),
    push: async (guestPath: string, spec: PushSpec, body: Readable) => {
      journal.note(`root.push ${guestPath}`);
      pushed.push({ spec, body });
    },
    delete: async (guestPath: string) => journal.note(`root.delete ${guestPath}`),
  } as unknown as InstanceRoot;
  const roots = { open: async (name: string) => (journal.note(`roots.open ${name}`), root) } as unknown as InstanceRoots;
  return {
    journal,
    pushed,
    get: new GetInstanceFileHandler(roots),
    push: new PushInstanceFileHandler(roots),
    delete: new DeleteInstanceFileHandler(roots),
  };
}

const SPEC: PushSpec = { type: 'file', uid: 1000, gid: 1000, mode: 0o640, append: false };

describe('instance files handlers', () => {
  it('refuse a missing, empty or NUL-holding path as an invalid `path`, before opening the root', async () => {
    for (const bad of [undefined, '', '/etc/pass\0wd']) {
      const s = setup();
      const isPathError = (e: unknown) => e instanceof ValidationError && e.field === 'path';
      await assert.rejects(s.get.execute(new GetInstanceFileQuery('c1', bad)), isPathError);
      await assert.rejects(s.push.execute(new PushInstanceFileCommand('c1', bad, SPEC, Readable.from(['x']))), isPathError);
      await assert.rejects(s.delete.execute(new DeleteInstanceFileCommand('c1', bad)), isPathError);
      assert.deepEqual(s.journal.steps, [], String(bad));
    }
  });

  it('push hands the root of the instance the path taken from `/`, the spec and the body', async () => {
    const { push, journal, pushed } = setup();
    const body = Readable.from(['127.0.0.1 localhost\n']);
    await push.execute(new PushInstanceFileCommand('c1', 'etc/hosts', SPEC, body));
    assert.deepEqual(journal.steps, ['roots.open c1', 'root.push /etc/hosts']);
    assert.equal(pushed.length, 1);
    assert.deepEqual(pushed[0]!.spec, SPEC);
    assert.equal(pushed[0]!.body, body);
  });

  it('delete and get go to the root of the instance with the absolute path; get answers its entry', async () => {
    const s = setup();
    await s.delete.execute(new DeleteInstanceFileCommand('c1', '/tmp/x'));
    assert.equal(await s.get.execute(new GetInstanceFileQuery('web', 'etc')), ENTRY);
    assert.deepEqual(s.journal.steps, ['roots.open c1', 'root.delete /tmp/x', 'roots.open web', 'root.read /etc']);
  });
});
