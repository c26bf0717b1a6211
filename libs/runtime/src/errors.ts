import { DomainError } from '#core';

/** Base of every error the runtime raises: a domain error whose `code` the HTTP edge maps once. */
export abstract class RuntimeError extends DomainError {}

/**
 * A system call failed in native code (the monitor, the exec helper or the addon). The message
 * always names the call and the errno (`pivot_root(2) failed: EINVAL`), so the one line an API
 * client or a log reader sees says what the kernel refused.
 */
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
    super(message.includes(`${syscall}(2)`) ? message : `${message}: ${syscall}(2) failed: ${errnoCode}`, { syscall, errno, code: errnoCode });
  }
}

export class ContainerAlreadyRunningError extends RuntimeError {
  readonly code = 'RUNTIME.ALREADY_RUNNING';

  constructor(readonly container: string) {
    super(`container ${container} is already running`, { container });
  }
}

export class ContainerNotRunningError extends RuntimeError {
  readonly code = 'RUNTIME.NOT_RUNNING';

  constructor(readonly container: string) {
    super(`container ${container} is not running`, { container });
  }
}

export class InvalidContainerSpecError extends RuntimeError {
  readonly code = 'RUNTIME.INVALID_SPEC';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`, { field });
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
    super(`container ${container}: the kernel refused ${file}=${JSON.stringify(value)} (${errnoCode})`, { container, controller, file, value, errno, code: errnoCode });
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
