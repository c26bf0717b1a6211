import { DomainError, InUseError } from '#core';

/** A host command (ip, tc, nft, dnsmasq, sysctl) failed; carries the command line and its stderr. */
export class NetworkCommandError extends DomainError {
  readonly code = 'NETWORK.COMMAND_FAILED';
  constructor(
    readonly command: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`${command.join(' ')} failed${exitCode === null ? '' : ` (exit ${exitCode})`}: ${stderr.trim() || 'no error output'}`, {
      command: [...command],
      stderr,
    });
  }
}

/** A bridge, a network directory or an nftables table of that name already exists. */
export class NetworkAlreadyExistsError extends DomainError {
  readonly code = 'NETWORK.ALREADY_EXISTS';
  constructor(readonly network: string, what: string) {
    super(`Network ${network} already exists (${what})`, { network });
  }
}

export class NetworkNotFoundError extends DomainError {
  readonly code = 'NETWORK.NOT_FOUND';
  constructor(readonly network: string) {
    super(`Network ${network} not found`, { network });
  }
}

/** The requested subnet overlaps a route or address the host already has. */
export class SubnetInUseError extends DomainError {
  readonly code = 'NETWORK.SUBNET_IN_USE';
  constructor(readonly subnet: string, readonly clash: string) {
    super(`Subnet ${subnet} overlaps ${clash}, already in use on this host`, { subnet, clash });
  }
}

/** No candidate private /24 is free on this host for `ipv4.address=auto`. */
export class NoFreeSubnetError extends DomainError {
  readonly code = 'NETWORK.NO_FREE_SUBNET';
  constructor() {
    super('No free private IPv4 /24 is left on this host; set ipv4.address explicitly');
  }
}

/** dnsmasq did not start, or stopped answering to its pid file. */
export class DnsmasqError extends DomainError {
  readonly code = 'NETWORK.DNSMASQ_FAILED';
  constructor(readonly network: string, message: string, readonly stderr = '') {
    super(`dnsmasq for network ${network}: ${message}${stderr.trim() ? `: ${stderr.trim()}` : ''}`, { network, stderr });
  }
}

/** The state directory cannot be read by dnsmasq once it drops root (it runs as `nobody`). */
export class StateDirectoryError extends DomainError {
  readonly code = 'NETWORK.STATE_DIR_UNREADABLE';
  constructor(readonly path: string) {
    super(`${path} must be searchable by other users (mode o+x, e.g. 0711): dnsmasq reads its host files there after dropping root`, { path });
  }
}

/** The nic's interface already exists on the host, or its name is taken inside the container. */
export class NicAlreadyExistsError extends DomainError {
  readonly code = 'NETWORK.NIC_ALREADY_EXISTS';
  constructor(readonly device: string) {
    super(`Interface ${device} already exists`, { device });
  }
}

/** An instance or a profile uses the network (400, as LXD): it cannot be deleted or renamed. */
export class NetworkInUseError extends InUseError {
  constructor(readonly network: string, readonly usedBy: readonly string[]) {
    super(`Network "${network}" is currently in use by: ${usedBy.join(', ')}`, { used_by: [...usedBy] });
  }
}
