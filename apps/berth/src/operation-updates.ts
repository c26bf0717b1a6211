// One operation's updates as berthd publishes them on /1.0/events: listening starts before the
// request that creates the operation, so that no early update is missed, and ends with its final
// status. `berth image build` prints its build log this way.
import type WebSocket from 'ws';
import { isFinalStatus, type Operation } from './api.js';
import type { BerthClient } from './client.js';

/** Updates of any operation kept until the id of ours is known (the answer to its request). */
const MAX_EARLY_UPDATES = 10_000;
/** How long the final event may lag behind the operation's end as the wait call saw it. */
const FINAL_EVENT_GRACE_MS = 5_000;

export class OperationUpdates {
  private id: string | undefined;
  private readonly early: Operation[] = [];
  private finalSeen: () => void = () => undefined;
  private readonly final = new Promise<void>((resolve) => (this.finalSeen = resolve));
  private socket: WebSocket | undefined;

  private constructor(private readonly onUpdate: (operation: Operation) => void) {}

  /** Subscribes to operation events; call follow() with the operation's id once it is known. */
  static async listen(client: BerthClient, onUpdate: (operation: Operation) => void): Promise<OperationUpdates> {
    const updates = new OperationUpdates(onUpdate);
    updates.socket = await client.subscribe(['operation'], (text) => updates.receive(text));
    return updates;
  }

  /** From now on, `onUpdate` gets this operation's updates: first those that came before, in order. */
  follow(id: string): void {
    this.id = id;
    for (const operation of this.early.splice(0)) this.dispatch(operation);
  }

  /**
   * Resolves once the final update was handed on. Call it when the operation is known to have
   * ended: the event may arrive a moment after the wait call's answer, or never if the stream broke.
   */
  async ended(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.final, new Promise((resolve) => (timer = setTimeout(resolve, FINAL_EVENT_GRACE_MS)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.socket?.terminate();
  }

  private receive(text: string): void {
    let operation: Operation | undefined;
    try {
      operation = (JSON.parse(text) as { metadata?: Operation }).metadata;
    } catch {
      return;
    }
    if (typeof operation?.id !== 'string') return;
    if (this.id !== undefined) this.dispatch(operation);
    else if (this.early.length < MAX_EARLY_UPDATES) this.early.push(operation);
  }

  private dispatch(operation: Operation): void {
    if (operation.id !== this.id) return;
    this.onUpdate(operation);
    if (isFinalStatus(operation.status_code)) this.finalSeen();
  }
}
