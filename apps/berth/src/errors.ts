/** A mistake in what the user asked for, found before or without the daemon. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Not an error to report: the command ran and berth must exit with its status (`berth exec`). */
export class ExitStatus extends Error {
  constructor(readonly status: number) {
    super(`exit status ${status}`);
    this.name = 'ExitStatus';
  }
}

/** The one line printed for any failure: the message only, never a stack, never several lines. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `Error: ${message.trim().replace(/\s*[\r\n]+\s*/g, ' ')}`;
}
