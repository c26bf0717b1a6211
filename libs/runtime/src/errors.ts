/** Base of every error the runtime raises; `code` is stable and mapped once to HTTP. */
export abstract class RuntimeError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A system call failed in native code (the monitor, the exec helper or the addon). */
export class NativeCallError extends RuntimeError {
  readonly code = 'RUNTIME.SYSCALL_FAILED';

  constructor(
    message: string,
    /** The failing system call, e.g. `pivot_root`. */
    readonly syscall: string,
    /** Its errno value, e.g. 22. */
    readonly errno: number,
    /** The errno name, e.g. `EINVAL`. */
    readonly errnoCode: string,
  ) {
    super(message);
  }
}

export class ContainerAlreadyRunningError extends RuntimeError {
  readonly code = 'RUNTIME.ALREADY_RUNNING';

  constructor(readonly container: string) {
    super(`container ${container} is already running`);
  }
}

export class ContainerNotRunningError extends RuntimeError {
  readonly code = 'RUNTIME.NOT_RUNNING';

  constructor(readonly container: string) {
    super(`container ${container} is not running`);
  }
}

export class InvalidContainerSpecError extends RuntimeError {
  readonly code = 'RUNTIME.INVALID_SPEC';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * The kernel refused one of a container's cgroup limits when the monitor wrote it, before the
 * container's init ran: the start was abandoned and nothing of it is left.
 */
export class CgroupLimitError extends RuntimeError {
  readonly code = 'RUNTIME.LIMIT_REFUSED';

  constructor(
    readonly container: string,
    /** The limit's controller, e.g. `memory`. */
    readonly controller: string,
    /** The cgroup file, e.g. `memory.limit_in_bytes`. */
    readonly file: string,
    /** The value the kernel refused. */
    readonly value: string,
    /** The errno value of the write, e.g. 22. */
    readonly errno: number,
    /** Its name, e.g. `EINVAL`. */
    readonly errnoCode: string,
  ) {
    super(`container ${container}: the kernel refused ${file}=${JSON.stringify(value)} (${errnoCode})`);
  }
}

/** A native failure as it crosses the process boundary: `{"ok":false,"syscall":…}`. */
export interface NativeFailure {
  ok: false;
  syscall: string;
  errno: number;
  code: string;
  message: string;
  /** Set when the failure was the write of a cgroup limit. */
  limit?: { controller: string; file: string; value: string };
}

export function isNativeFailure(value: unknown): value is NativeFailure {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { ok?: unknown }).ok === false &&
    typeof (value as { syscall?: unknown }).syscall === 'string'
  );
}

export function nativeError(failure: NativeFailure): NativeCallError {
  return new NativeCallError(failure.message, failure.syscall, failure.errno, failure.code);
}
