/** A mistake in what the user asked for, found before or without the daemon. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The one line printed for any failure: the message only, never a stack, never several lines. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `Error: ${message.trim().replace(/\s*[\r\n]+\s*/g, ' ')}`;
}
