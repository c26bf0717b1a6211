import { randomUUID } from 'node:crypto';
import { TypeORMError, type DataSource, type Repository } from 'typeorm';
import { DomainError, isDatabaseUnavailable, type Logger } from '#core';
import { isFinal, OperationStatus, toView, type OperationClass, type OperationData, type OperationView } from './domain/operation.js';
import { OperationCancelledError, OperationNotCancellableError, OperationNotFoundError } from './domain/operation.errors.js';
import type { EventHub } from './events/event-hub.js';
import { OperationRecord } from './infrastructure/operation.entity.js';

export interface OperationContext {
  /** Aborted when the operation is cancelled or the daemon stops. */
  signal: AbortSignal;
  /** Replaces the operation's metadata (progress, results) and tells listeners. */
  progress(metadata: Record<string, unknown>): Promise<void>;
}

export interface StartOperation {
  class?: OperationClass;
  description: string;
  resources?: Record<string, string[]>;
  cancellable?: boolean;
  run(ctx: OperationContext): Promise<Record<string, unknown> | void>;
}

/** TypeORM's deep-partial typing cannot express free-form jsonb; the column takes any object. */
const jsonb = (value: Record<string, unknown>) => value as never;

interface Running {
  data: OperationData;
  abort: AbortController;
  cancellable: boolean;
  /** The work: settles when `run` returns (which an abort may not hasten). */
  done: Promise<void>;
  /** Resolves once the operation's end is recorded and published (by the work or by shutdown). */
  ended: Promise<void>;
  end(): void;
}

/** Identity of this daemon in the shared operations table. */
export interface DaemonIdentity {
  /** Stable across restarts of the same daemon: `hostname:BERTH_DIR`. */
  owner: string;
  /** New at every start. */
  bootId: string;
}

/**
 * Runs background operations and keeps every one of them in Postgres, so that an operation is
 * never silently lost: one interrupted by a daemon crash is marked failed at the next start.
 */
export class OperationRunner {
  private readonly running = new Map<string, Running>();
  private readonly repo: Repository<OperationRecord>;
  private pruneTimer?: NodeJS.Timeout;

  constructor(dataSource: DataSource, private readonly hub: EventHub, private readonly identity: DaemonIdentity, private readonly log: Logger) {
    this.repo = dataSource.getRepository(OperationRecord);
  }

  static url(id: string): string {
    return `/1.0/operations/${id}`;
  }

  /** Marks operations left running by an earlier life of this daemon as failed, with the reason. */
  async failInterrupted(): Promise<number> {
    const result = await this.repo
      .createQueryBuilder()
      .update()
      .set({ statusCode: OperationStatus.Failure, err: 'Interrupted: the daemon stopped before the operation finished', mayCancel: false, updatedAt: () => 'now()' })
      .where('owner = :owner AND boot_id <> :boot AND status_code < 200', { owner: this.identity.owner, boot: this.identity.bootId })
      .returning('*')
      .execute();
    const rows = (result.raw as Array<Record<string, unknown>>) ?? [];
    if (rows.length > 0) this.log.warn({ operations: rows.map((r) => r.id) }, 'marked interrupted operations as failed');
    return rows.length;
  }

  /** Completed operations are kept for a day, then pruned. */
  startPruning(): void {
    const prune = () =>
      this.repo
        .createQueryBuilder()
        .delete()
        .where("status_code >= 200 AND updated_at < now() - interval '1 day'")
        .execute()
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'pruning operations failed'));
    void prune();
    this.pruneTimer = setInterval(prune, 3600_000);
    this.pruneTimer.unref();
  }

  async start(spec: StartOperation): Promise<OperationView> {
    const now = new Date();
    const data: OperationData = {
      id: randomUUID(),
      class: spec.class ?? 'task',
      description: spec.description,
      statusCode: OperationStatus.Running,
      resources: spec.resources ?? {},
      metadata: {},
      mayCancel: spec.cancellable ?? false,
      err: '',
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.insert({ ...data, metadata: jsonb(data.metadata), owner: this.identity.owner, bootId: this.identity.bootId });
    const abort = new AbortController();
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const entry: Running = { data, abort, cancellable: data.mayCancel, done: Promise.resolve(), ended, end };
    this.running.set(data.id, entry);
    this.emit(data);
    entry.done = this.execute(entry, spec);
    return this.view(data);
  }

  private async execute(entry: Running, spec: StartOperation): Promise<void> {
    const { data, abort } = entry;
    const ctx: OperationContext = {
      signal: abort.signal,
      progress: async (metadata) => {
        data.metadata = metadata;
        data.updatedAt = new Date();
        await this.repo.update(data.id, { metadata: jsonb(metadata), updatedAt: data.updatedAt });
        this.emit(data);
      },
    };
    let ended: Pick<OperationData, 'statusCode' | 'err'> & { metadata?: Record<string, unknown> };
    try {
      const result = await spec.run(ctx);
      if (abort.signal.aborted) throw new OperationCancelledError();
      ended = { statusCode: OperationStatus.Success, err: '', ...(result && { metadata: result }) };
    } catch (err) {
      if (abort.signal.aborted) {
        const cancelled = entry.data.statusCode === OperationStatus.Cancelling;
        ended = { statusCode: cancelled ? OperationStatus.Cancelled : OperationStatus.Failure, err: cancelled ? 'Operation cancelled' : String(abort.signal.reason ?? 'Aborted') };
      } else {
        ended = { statusCode: OperationStatus.Failure, err: this.reason(data.id, err) };
      }
    }
    if (this.running.get(data.id) !== entry) return; // shutdown() ended it already
    Object.assign(data, ended, { updatedAt: new Date() });
    await this.persistFinal(data);
    this.running.delete(data.id);
    this.emit(data);
    entry.end();
  }

  /** Why an operation failed, as a client may read it: never an ORM's or a driver's wording. */
  private reason(id: string, err: unknown): string {
    if (err instanceof DomainError) return err.message;
    if (isDatabaseUnavailable(err)) return 'The database is unavailable; try again shortly';
    if (err instanceof TypeORMError) {
      this.log.error({ operation: id, err: { message: err.message, stack: err.stack } }, 'an operation failed on a database error');
      return `Internal error (operation ${id}); see the daemon's log`;
    }
    return (err as Error)?.message ?? String(err);
  }

  /** The final state must reach the database even through a short outage. */
  private async persistFinal(data: OperationData, attempts = Infinity): Promise<void> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.repo.update(data.id, { statusCode: data.statusCode, err: data.err, metadata: jsonb(data.metadata), mayCancel: false, updatedAt: data.updatedAt });
        return;
      } catch (err) {
        if (attempt === attempts) return this.log.error({ operation: data.id, err: (err as Error).message }, 'could not record the end of an operation');
        if (attempt === 1) this.log.error({ operation: data.id, err: (err as Error).message }, 'could not record the end of an operation; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
      }
    }
  }

  async get(id: string): Promise<OperationView> {
    const local = this.running.get(id);
    if (local) return this.view(local.data);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new OperationNotFoundError(id);
    const row = await this.repo.findOneBy({ id });
    if (!row) throw new OperationNotFoundError(id);
    return this.view(row);
  }

  async list(): Promise<OperationView[]> {
    const rows = await this.repo.find({ order: { createdAt: 'ASC' } });
    return rows.map((row) => this.view(this.running.get(row.id)?.data ?? row));
  }

  /** Long-polls until the operation ends or `timeoutSeconds` pass (-1: no limit). */
  async wait(id: string, timeoutSeconds: number): Promise<OperationView> {
    const deadline = timeoutSeconds < 0 ? Infinity : Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const local = this.running.get(id);
      const remaining = deadline - Date.now();
      if (local) {
        if (remaining <= 0) return this.view(local.data);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([local.ended, new Promise((r) => (timer = setTimeout(r, Math.min(remaining, 2 ** 31 - 1))))]);
        clearTimeout(timer);
        continue;
      }
      const view = await this.get(id);
      if (isFinal(view.status_code) || remaining <= 0) return view;
      await new Promise((r) => setTimeout(r, Math.min(250, remaining)));
    }
  }

  async cancel(id: string): Promise<OperationView> {
    const local = this.running.get(id);
    if (!local) {
      const view = await this.get(id);
      throw new OperationNotCancellableError(id, isFinal(view.status_code) ? `it has already ended (${view.status})` : 'it is not run by this daemon');
    }
    if (!local.cancellable) throw new OperationNotCancellableError(id, 'this kind of operation cannot be cancelled');
    local.data.statusCode = OperationStatus.Cancelling;
    local.data.updatedAt = new Date();
    this.emit(local.data);
    local.abort.abort(new OperationCancelledError());
    await local.ended;
    return this.view(local.data);
  }

  /**
   * On daemon stop, before the event listeners are closed (so that clients waiting on an operation
   * read its end, not a closed websocket). As LXD does on SIGTERM: cancellable operations are
   * cancelled, the others get `graceMs` to finish on their own (a start whose container comes up
   * in time succeeds); those still running then end as failed, with the reason recorded and
   * published, even when their work does not stop at the abort (a boot that goes on).
   */
  async shutdown(graceMs = 10_000): Promise<void> {
    clearInterval(this.pruneTimer);
    const reason = 'Interrupted: the daemon is shutting down';
    for (const op of this.running.values()) if (op.cancellable) op.abort.abort(reason);
    await settled([...this.running.values()].map((op) => op.done), graceMs);
    const left = [...this.running.values()];
    for (const op of left) op.abort.abort(reason);
    await settled(left.map((op) => op.done), 2_000);
    for (const op of [...this.running.values()]) {
      op.data.statusCode = OperationStatus.Failure;
      op.data.err = reason;
      op.data.updatedAt = new Date();
      this.running.delete(op.data.id);
      await this.persistFinal(op.data, 1);
      this.emit(op.data);
      op.end();
    }
  }

  private view(data: OperationData): OperationView {
    return toView(data, 'none');
  }

  private emit(data: OperationData) {
    this.hub.publish('operation', this.view(data));
  }
}

/** Resolves when every promise has settled or after `ms`, whichever comes first. */
async function settled(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(promises), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
