import { ValidationError } from '#core';

/** The LXD network types; Berth manages bridges only. */
const LXD_TYPES = ['bridge', 'macvlan', 'sriov', 'ovn', 'physical'];

/**
 * Accepts `bridge`, and an unset or empty type (a bridge, as in LXD). Refuses LXD's other types
 * (macvlan, sriov, ovn, physical) and unknown ones with an error naming `type`.
 */
export function validateNetworkType(type: unknown): 'bridge' {
  if (type === undefined || type === null || type === '' || type === 'bridge') return 'bridge';
  if (typeof type !== 'string') throw new ValidationError('type', 'must be a string');
  if (LXD_TYPES.includes(type)) throw new ValidationError('type', `network type "${type}" is not supported: Berth manages bridge networks only`);
  throw new ValidationError('type', `unknown network type "${type}" (LXD's are ${LXD_TYPES.join(', ')}; Berth manages bridge)`);
}
