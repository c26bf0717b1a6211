/**
 * The berth_native.node addon (native/src/addon/addon.cc). Only calls that are safe from
 * Node's multi-threaded process; namespace work lives in the berth-monitor executable.
 * Rejections are Errors carrying `syscall`, `errno` and `code` (e.g. "ESRCH").
 */
export interface BerthNative {
  /** Sends `signal` (0 probes) to `pid` through a pidfd. */
  signalProcess(pid: number, signal: number): Promise<void>;
}
