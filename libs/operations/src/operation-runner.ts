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
  done: Promise<void>;
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
    const entry: Running = { data, abort, cancellable: data.mayCancel, done: Promise.resolve() };
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
    try {
      const result = await spec.run(ctx);
      if (abort.signal.aborted) throw new OperationCancelledError();
      if (result) data.metadata = result;
      data.statusCode = OperationStatus.Success;
    } catch (err) {
      if (abort.signal.aborted) {
        data.statusCode = entry.data.statusCode === OperationStatus.Cancelling ? OperationStatus.Cancelled : OperationStatus.Failure;
        data.err = data.statusCode === OperationStatus.Cancelled ? 'Operation cancelled' : String(abort.signal.reason ?? 'Aborted');
      } else {
        data.statusCode = OperationStatus.Failure;
        data.err = this.reason(data.id, err);
      }
    }
    data.updatedAt = new Date();
    await this.persistFinal(data);
    this.running.delete(data.id);
    this.emit(data);
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
  private async persistFinal(data: OperationData): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.repo.update(data.id, { statusCode: data.statusCode, err: data.err, metadata: jsonb(data.metadata), mayCancel: false, updatedAt: data.updatedAt });
        return;
      } catch (err) {
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
        await Promise.race([local.done, new Promise((r) => (timer = setTimeout(r, Math.min(remaining, 2 ** 31 - 1))))]);
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
    await local.done;
    return this.view(local.data);
  }

  /** On daemon stop: every running operation ends as failed, with the reason recorded. */
  async shutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    const all = [...this.running.values()];
    for (const op of all) op.abort.abort('Interrupted: the daemon is shutting down');
    await Promise.race([Promise.all(all.map((op) => op.done)), new Promise((r) => setTimeout(r, 10_000))]);
  }

  private view(data: OperationData): OperationView {
    return toView(data, 'none');
  }

  private emit(data: OperationData) {
    this.hub.publish('operation', this.view(data));
  }
}
