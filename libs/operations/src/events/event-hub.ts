import { Writable } from 'node:stream';
import { Subject, type Observable } from 'rxjs';

export type EventType = 'lifecycle' | 'operation' | 'logging';
export const EVENT_TYPES: readonly EventType[] = ['lifecycle', 'operation', 'logging'];

/** One event on /1.0/events, in LXD's shape. */
export interface BerthEvent {
  type: EventType;
  timestamp: string;
  metadata: unknown;
  location: string;
  project: string;
}

export interface LifecycleRequestor {
  protocol: string;
  username?: string;
  address?: string;
}

/** Fan-out of everything /1.0/events listeners can see. */
export class EventHub {
  private readonly subject = new Subject<BerthEvent>();
  readonly events: Observable<BerthEvent> = this.subject.asObservable();

  constructor(private readonly location = 'none') {}

  publish(type: EventType, metadata: unknown): void {
    this.subject.next({ type, timestamp: new Date().toISOString(), metadata, location: this.location, project: 'default' });
  }

  /** `action` is LXD's lifecycle name, such as `profile-created`; `source` the API path of the entity. */
  lifecycle(action: string, source: string, context: Record<string, unknown> = {}, requestor: LifecycleRequestor = { protocol: 'unix' }): void {
    this.publish('lifecycle', { action, source, context, requestor });
  }

  /** A pino destination that turns log lines into `logging` events (LXD: {message, level, context}). */
  loggingStream(): Writable {
    const levels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'crit' };
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        try {
          const { level, msg, time: _t, pid: _p, hostname: _h, service: _s, ...context } = JSON.parse(chunk.toString('utf8'));
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(context)) flat[k] = typeof v === 'string' ? v : JSON.stringify(v);
          this.publish('logging', { message: msg ?? '', level: levels[level] ?? 'info', context: flat });
        } catch {
          // a log line that is not JSON is not an event
        }
        done();
      },
    });
  }
}
