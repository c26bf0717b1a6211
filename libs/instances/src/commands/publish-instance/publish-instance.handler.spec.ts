import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImagePublisher, ImportOptions } from '#images';
import { InstanceHeldError, InstanceStateError } from '../../domain/instance.errors.js';
import { FakeOperations, fakeRepository, instanceOf, Journal } from '../../testing/fakes.js';
import { PublishInstanceCommand } from './publish-instance.command.js';
import { PublishInstanceHandler } from './publish-instance.handler.js';

const OPTIONS: ImportOptions = { public: false, filename: '', properties: {}, aliases: [{ name: 'web/v1', description: '' }] };

function setup(status: 'Stopped' | 'Running', volatile: Record<string, string> = {}) {
  const journal = new Journal();
  const repository = fakeRepository(journal, instanceOf('web', { status, volatile, config: { 'image.variant': 'lamp' } }));
  let locked = false;
  const withLock = repository.withLock;
  repository.withLock = async <T>(name: string, fn: () => Promise<T>) => {
    locked = true;
    try {
      return await withLock(name, fn);
    } finally {
      locked = false;
    }
  };
  const published: unknown[] = [];
  const images = {
    publish: async (source: unknown, options: ImportOptions) => {
      assert.ok(locked, 'the volume is packed under the instance lock');
      published.push({ source, options });
      return { fingerprint: 'f00d' };
    },
  } as unknown as ImagePublisher;
  const operations = new FakeOperations();
  return { handler: new PublishInstanceHandler(repository, operations.asRunner(), images), operations, published };
}

describe('PublishInstanceHandler', () => {
  it('publishes a stopped instance in an operation, under its lock, with its architecture and expanded config', async () => {
    const { handler, operations, published } = setup('Stopped');
    const view = await handler.execute(new PublishInstanceCommand('web', OPTIONS));
    assert.equal(view.description, 'Publishing instance');
    assert.deepEqual(await operations.outcome(), { fingerprint: 'f00d' });
    assert.deepEqual(operations.started[0]!.resources, { instances: ['/1.0/instances/web'], containers: ['/1.0/containers/web'] });
    assert.deepEqual(published, [{ source: { name: 'web', architecture: 'x86_64', config: { 'image.variant': 'lamp' } }, options: OPTIONS }]);
  });

  it('refuses a running or held instance before any operation starts', async () => {
    const running = setup('Running');
    await assert.rejects(running.handler.execute(new PublishInstanceCommand('web', OPTIONS)), (e: unknown) => e instanceof InstanceStateError && /is Running: stop it/.test(e.message));
    const held = setup('Stopped', { 'volatile.hold': 'a VM is being imported into it' });
    await assert.rejects(held.handler.execute(new PublishInstanceCommand('web', OPTIONS)), InstanceHeldError);
    assert.deepEqual([...running.operations.started, ...held.operations.started], []);
    assert.deepEqual([...running.published, ...held.published], []);
  });
});
