import { DomainError } from '#core';

/** The tree has no os-release: it is not the root filesystem of a Linux system. */
export class NotLinuxError extends DomainError {
  readonly code = 'MIGRATE.NOT_LINUX';
  constructor(reason: string) {
    super(`The source is not a Linux root filesystem: ${reason}`);
  }
}

/** /sbin/init does not lead to systemd: Berth containers boot systemd as PID 1. */
export class UnsupportedInitError extends DomainError {
  readonly code = 'MIGRATE.UNSUPPORTED_INIT';
  constructor(readonly initPath: string, reason: string) {
    super(`The guest's init is not systemd (${initPath}): ${reason}`, { initPath });
  }
}

/** The guest's binaries are built for another architecture than the host's. */
export class ArchitectureMismatchError extends DomainError {
  readonly code = 'MIGRATE.ARCHITECTURE_MISMATCH';
  constructor(readonly guest: string, readonly host: string) {
    super(`The guest is ${guest} but this host is ${host}`, { guest, host });
  }
}
