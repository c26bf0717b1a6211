import WebSocket from 'ws';

export interface EventRecorder {
  events: Array<{ type: string; metadata: Record<string, unknown> }>;
  /** Resolves with the first recorded event (past or future) matching `predicate`. */
  waitFor(predicate: (e: { type: string; metadata: Record<string, unknown> }) => boolean, timeoutMs?: number): Promise<{ type: string; metadata: Record<string, unknown> }>;
  close(): void;
}

/** Listens on /1.0/events over the daemon's Unix socket. */
export async function listen(socket: string, types?: string): Promise<EventRecorder> {
  const ws = new WebSocket(`ws+unix://${socket}:/1.0/events${types ? `?type=${types}` : ''}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const events: EventRecorder['events'] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    events.push(JSON.parse(data.toString()));
    for (const w of waiters.splice(0)) w();
  });
  return {
    events,
    waitFor: (predicate, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event; saw ${JSON.stringify(events.map((e) => [e.type, e.metadata.action ?? e.metadata.status]))}`)), timeoutMs);
        const check = () => {
          const found = events.find(predicate);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else waiters.push(check);
        };
        check();
      }),
    close: () => ws.close(),
  };
}
