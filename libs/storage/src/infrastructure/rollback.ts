import { StorageRollbackIncompleteError } from '../domain/storage.errors.js';

interface Step {
  leftover: string;
  undo: () => Promise<unknown>;
}

/**
 * Undo steps recorded as an operation goes (LXD's revert pattern). On failure they run in
 * reverse order; if one of them fails too, the error says exactly what is left on the host.
 */
export class Rollback {
  private readonly steps: Step[] = [];

  /** Records how to undo the step just done; `leftover` names what would stay behind if undo fails. */
  add(leftover: string, undo: () => Promise<unknown>): void {
    this.steps.push({ leftover, undo });
  }

  async undo(cause: unknown): Promise<never> {
    const leftovers: string[] = [];
    for (const step of this.steps.reverse()) {
      try {
        await step.undo();
      } catch (error) {
        leftovers.push(`${step.leftover} (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    throw leftovers.length ? new StorageRollbackIncompleteError(cause, leftovers) : cause;
  }
}

/** Runs `work`; if it throws, undoes every step it recorded and rethrows the original error. */
export async function withRollback<T>(work: (rollback: Rollback) => Promise<T>): Promise<T> {
  const rollback = new Rollback();
  try {
    return await work(rollback);
  } catch (error) {
    return rollback.undo(error);
  }
}
