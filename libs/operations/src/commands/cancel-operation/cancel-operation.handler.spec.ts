import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { createLogger } from '#core';
import { OperationStatus, type OperationView } from '../../domain/operation.js';
import { EventHub } from '../../events/event-hub.js';
import type { OperationRecord } from '../../infrastructure/operation.entity.js';
import { OperationRunner } from '../../operation-runner.js';
import { CancelOperationCommand } from './cancel-operation.command.js';
import { CancelOperationHandler } from './cancel-operation.handler.js';

/** The operations table as the runner uses it, in memory. */
class InMemoryOperationRecords {
  readonly rows = new Map<string, OperationRecord>();

  async insert(row: OperationRecord): Promise<void> {
    this.rows.set(row.id, { ...row });
  }

  async update(id: string, changes: Partial<OperationRecord>): Promise<void> {
    Object.assign(this.rows.get(id)!, changes);
  }

  async findOneBy({ id }: { id: string }): Promise<OperationRecord | null> {
    return this.rows.get(id) ?? null;
  }
}

function setup() {
  const records = new InMemoryOperationRecords();
  const hub = new EventHub();
  const seen: string[] = [];
  hub.events.subscribe((e) => seen.push((e.metadata as OperationView).status));
  const runner = new OperationRunner({ getRepository: () => records } as unknown as DataSource, hub, { owner: 'host:/var/lib/berth', bootId: randomUUID() }, createLogger('silent'));
  return { records, seen, runner, handler: new CancelOperationHandler(runner) };
}

/** An operation that runs until it is aborted. */
const untilAborted = (description: string, cancellable: boolean) => ({
  description,
  cancellable,
  run: ({ signal }: { signal: AbortSignal }) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
});

function storedOperation(records: InMemoryOperationRecords, statusCode: number, owner: string): string {
  const id = randomUUID();
  const now = new Date();
  records.rows.set(id, { id, class: 'task', description: 'elsewhere', statusCode, resources: {}, metadata: {}, mayCancel: true, err: '', owner, bootId: randomUUID(), createdAt: now, updatedAt: now });
  return id;
}

describe('CancelOperationHandler', () => {
  it('cancels a running cancellable operation: Cancelling, then Cancelled, recorded and told to listeners', async () => {
    const { records, seen, runner, handler } = setup();
    const op = await runner.start(untilAborted('Creating instance', true));
    const view = await handler.execute(new CancelOperationCommand(op.id));
    assert.deepEqual([view.status, view.status_code, view.err, view.may_cancel], ['Cancelled', OperationStatus.Cancelled, 'Operation cancelled', false]);
    assert.deepEqual(seen, ['Running', 'Cancelling', 'Cancelled']);
    const row = records.rows.get(op.id)!;
    assert.deepEqual([row.statusCode, row.err, row.mayCancel], [OperationStatus.Cancelled, 'Operation cancelled', false]);
  });

  it('refuses an operation that is not cancellable, which goes on running', async () => {
    const { runner, handler } = setup();
    const op = await runner.start(untilAborted('Starting instance', false));
    await assert.rejects(handler.execute(new CancelOperationCommand(op.id)), {
      code: 'OPERATION.NOT_CANCELLABLE',
      message: `Operation ${op.id} cannot be cancelled: this kind of operation cannot be cancelled`,
    });
    assert.equal((await runner.get(op.id)).status, 'Running');
    await runner.shutdown();
  });

  it('refuses an operation that has ended, and one another daemon runs', async () => {
    const { records, handler } = setup();
    const ended = storedOperation(records, OperationStatus.Success, 'host:/var/lib/berth');
    await assert.rejects(handler.execute(new CancelOperationCommand(ended)), { code: 'OPERATION.NOT_CANCELLABLE', message: `Operation ${ended} cannot be cancelled: it has already ended (Success)` });
    const elsewhere = storedOperation(records, OperationStatus.Running, 'other:/var/lib/berth');
    await assert.rejects(handler.execute(new CancelOperationCommand(elsewhere)), { code: 'OPERATION.NOT_CANCELLABLE', message: `Operation ${elsewhere} cannot be cancelled: it is not run by this daemon` });
    assert.equal(records.rows.get(elsewhere)!.statusCode, OperationStatus.Running);
  });

  it('answers not found for an id no operation has', async () => {
    const { handler } = setup();
    await assert.rejects(handler.execute(new CancelOperationCommand(randomUUID())), { code: 'RESOURCE.NOT_FOUND' });
    await assert.rejects(handler.execute(new CancelOperationCommand('../../etc')), { code: 'RESOURCE.NOT_FOUND', message: 'Operation not found: ../../etc' });
  });
});
