import { ValidationError } from '#core';
import { defaultDhcpRanges, parseDhcpRanges, type DhcpRange } from './dhcp-range.js';
import { parseInterfaceAddress, type InterfaceAddress } from './ipv4.js';
import { validateNetworkName } from './names.js';

type Check = (field: string, value: string) => void;

const BOOL = /^(true|false|0|1|yes|no|on|off)$/i;
const bool: Check = (field, v) => {
  if (!BOOL.test(v)) throw new ValidationError(field, 'must be a boolean');
};
const address: Check = (field, v) => {
  if (v !== 'auto') parseInterfaceAddress(field, v);
};
// Checked against the address once both are known (see networkSpecOf); here only the shape.
const ranges: Check = () => undefined;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const domain: Check = (field, v) => {
  if (v.length > 253 || !v.split('.').every((label) => LABEL.test(label))) {
    throw new ValidationError(field, `"${v}" is not a DNS domain name`);
  }
};
const mtu: Check = (field, v) => {
  // 68 is the smallest MTU IPv4 allows (RFC 791); 65535 is the kernel's maximum for a bridge.
  if (!/^\d{1,5}$/.test(v) || Number(v) < 68 || Number(v) > 65535) throw new ValidationError(field, 'must be an integer from 68 to 65535');
};

/** The configuration keys of a managed bridge network, with LXD's names. */
const KEYS: Record<string, Check> = {
  'ipv4.address': address,
  'ipv4.nat': bool,
  'ipv4.dhcp': bool,
  'ipv4.dhcp.ranges': ranges,
  'dns.domain': domain,
  'bridge.mtu': mtu,
};

const isTrue = (v: string | undefined, otherwise: boolean) => (v === undefined ? otherwise : /^(true|1|yes|on)$/i.test(v));

/**
 * Validates a network's config map: known keys (and free `user.*` keys) with well-formed values.
 * An empty value unsets its key, as in LXD (`lxc network unset` sends the key with ""); it is left
 * out of the copy. Returns a fresh, prototype-free copy. Errors name the key: `Invalid config["bridge.mtu"]: …`.
 */
export function validateNetworkConfig(config: unknown, fieldName = 'config'): Record<string, string> {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new ValidationError(fieldName, 'must be an object of string values');
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(config)) {
    const field = `${fieldName}["${key}"]`;
    if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new ValidationError(field, 'must not contain control characters');
    const check = KEYS[key];
    if (!check && !(key.startsWith('user.') && key.length > 'user.'.length)) throw new ValidationError(field, 'unknown network configuration key');
    if (value === '') continue;
    check?.(field, value);
    out[key] = value;
  }
  if (out['ipv4.address'] !== undefined && out['ipv4.address'] !== 'auto' && out['ipv4.dhcp.ranges'] !== undefined) {
    parseDhcpRanges(`${fieldName}["ipv4.dhcp.ranges"]`, out['ipv4.dhcp.ranges'], parseInterfaceAddress('', out['ipv4.address']));
  }
  return out;
}

/** Everything needed to bring a bridge network up, resolved from its name and config. */
export interface NetworkSpec {
  /** The network's name, which is also the bridge's interface name. */
  readonly name: string;
  readonly gateway: InterfaceAddress;
  readonly nat: boolean;
  readonly dhcp: boolean;
  readonly dhcpRanges: readonly DhcpRange[];
  readonly domain: string;
  readonly mtu: number;
}

export const DEFAULT_DNS_DOMAIN = 'berth';
export const DEFAULT_BRIDGE_MTU = 1500;

/**
 * Resolves a validated config into a spec. `ipv4.address` must be concrete here: `auto` is
 * replaced beforehand by the address chosen for the host (see chooseSubnet), and that concrete
 * value is what gets stored, so the subnet stays the same across restarts.
 */
export function networkSpecOf(name: string, config: Readonly<Record<string, string>>, fieldName = 'config'): NetworkSpec {
  validateNetworkName('name', name);
  const valid = validateNetworkConfig(config, fieldName);
  const addressText = valid['ipv4.address'];
  if (addressText === undefined || addressText === 'auto') {
    throw new ValidationError(`${fieldName}["ipv4.address"]`, 'must be resolved to an address before the network is created');
  }
  const gateway = parseInterfaceAddress(`${fieldName}["ipv4.address"]`, addressText);
  const rangesText = valid['ipv4.dhcp.ranges'];
  return {
    name,
    gateway,
    nat: isTrue(valid['ipv4.nat'], false),
    dhcp: isTrue(valid['ipv4.dhcp'], true),
    dhcpRanges: rangesText ? parseDhcpRanges(`${fieldName}["ipv4.dhcp.ranges"]`, rangesText, gateway) : defaultDhcpRanges(gateway),
    domain: valid['dns.domain'] ?? DEFAULT_DNS_DOMAIN,
    mtu: valid['bridge.mtu'] ? Number(valid['bridge.mtu']) : DEFAULT_BRIDGE_MTU,
  };
}
