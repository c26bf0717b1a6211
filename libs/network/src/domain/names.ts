import { createHash } from 'node:crypto';
import { ValidationError } from '#core';

/** IFNAMSIZ is 16 bytes including the terminating NUL. */
export const MAX_INTERFACE_NAME = 15;

const PORTABLE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * A network's name is its bridge's name, so it follows the kernel's rule for interface names (at
 * most 15 bytes, no `/`, whitespace or `:`). Berth narrows it to letters, digits, `_`, `.` and
 * `-`, starting with a letter or digit, because the same name also becomes a directory, an
 * nftables table and a dnsmasq option value.
 */
export function validateNetworkName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (Buffer.byteLength(value) > MAX_INTERFACE_NAME) throw new ValidationError(field, `must be at most ${MAX_INTERFACE_NAME} characters (an interface name)`);
  if (value.includes('/')) throw new ValidationError(field, 'must not contain "/"');
  if (value.includes(':')) throw new ValidationError(field, 'must not contain ":"');
  if (/\s/.test(value)) throw new ValidationError(field, 'must not contain whitespace');
  if (!PORTABLE.test(value)) throw new ValidationError(field, 'may only contain letters, digits, "_", "." and "-", starting with a letter or digit');
  if (/^\d+$/.test(value)) throw new ValidationError(field, 'must not be only digits');
  return value;
}

/**
 * The name of the host end of a nic's veth pair: `bth` + 12 hex digits (15 characters), from the
 * instance's `volatile.uuid` and the device's name. The uuid, not the instance's name: two berthd
 * on one host (two BERTH_DIRs) may each run an instance called `web`, and the name of a host
 * interface is host-wide. While the instance runs, the name is also recorded as
 * `volatile.<device>.host_name` (LXD's key); a renamed instance keeps its uuid, and so its names.
 */
export function hostVethName(uuid: string, device: string): string {
  if (uuid === '') throw new Error('hostVethName: the instance has no volatile.uuid');
  return `bth${digest(uuid, device)}`;
}

// Derived, not random (LXD's are random), so that a restarted berthd finds the host end of a
// running instance's nic from the record alone.
function digest(uuid: string, device: string): string {
  return createHash('sha256').update(`${uuid}\u0000${device}`).digest('hex').slice(0, 12);
}
