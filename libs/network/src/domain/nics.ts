import { ValidationError } from '#core';
import { parseNicLimits } from './bit-rate.js';
import { generateMac, parseMac } from './mac.js';

/** An instance's devices by name, each a map of its keys (`type`, `network`, `name`, ...). */
export type Devices = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** A managed nic of an instance's expanded devices. */
export interface Nic {
  readonly device: string;
  readonly network: string;
  readonly spec: Readonly<Record<string, string>>;
}

/** What the nic services need of an instance: primitives only. */
export interface NicHolder {
  /** The instance's name: its dnsmasq host entry (DNS name). */
  readonly name: string;
  /** Its `volatile.uuid`: the host ends of its nics are named after it. */
  readonly uuid: string;
  /** Its expanded devices. */
  readonly devices: Devices;
  /** Its volatile keys (`volatile.<dev>.hwaddr`, `volatile.<dev>.host_name`, ...). */
  readonly volatile: Readonly<Record<string, string>>;
}

/** Changes to an instance's volatile keys: a string sets the key, null unsets it. */
export type VolatileChanges = Record<`volatile.${string}`, string | null>;

/** A running instance's network interface as its state shows it (LXD's InstanceStateNetwork). */
export interface NicState {
  addresses: Array<{ family: string; address: string; netmask: string; scope: string }>;
  hwaddr: string;
  host_name?: string;
  state: string;
  type: string;
}

/** `volatile.<device>.hwaddr`: the MAC given to a nic without `hwaddr`, kept for the instance's life. */
export const hwaddrKey = (device: string) => `volatile.${device}.hwaddr` as const;
/** `volatile.<device>.host_name`: the host end of a plugged nic, recorded while the instance runs (as LXD does). */
export const hostNameKey = (device: string) => `volatile.${device}.host_name` as const;
const HOST_NAME_KEY = /^volatile\..+\.host_name$/;
/** The nic keys that can change on a plugged nic without plugging it again. */
const LIVE_NIC_KEYS = ['limits.ingress', 'limits.egress', 'limits.max'];

/** The managed nics of expanded devices: `type=nic` with `network=` (or `parent=`) naming a managed network. */
export function nicsOf(devices: Devices): Nic[] {
  return Object.entries(devices)
    .filter(([, d]) => d.type === 'nic' && (d.network ?? d.parent) !== undefined)
    .map(([device, spec]) => ({ device, network: (spec.network ?? spec.parent)!, spec }));
}

/** The nic's MAC: its `hwaddr`, else the one recorded in volatile (undefined before one was given). */
export function macOf({ device, spec }: Nic, volatile: Readonly<Record<string, string>>): string | undefined {
  return spec.hwaddr ?? volatile[hwaddrKey(device)];
}

/** Whether a nic changed in a key that needs it plugged again (anything but its limits). */
export function replugNeeded(old: Nic, now: Nic): boolean {
  if (old.network !== now.network) return true;
  const keys = new Set([...Object.keys(old.spec), ...Object.keys(now.spec)].filter((k) => !LIVE_NIC_KEYS.includes(k)));
  return [...keys].some((k) => old.spec[k] !== now.spec[k]);
}

/** Whether a nic's limits are the same (an unset limit and an empty one are alike). */
export function sameLimits(old: Nic, now: Nic): boolean {
  return LIVE_NIC_KEYS.every((k) => (old.spec[k] ?? '') === (now.spec[k] ?? ''));
}

/** Refuses nic keys that would only fail when the nic is plugged: a bad MAC, MTU or limit. */
export function checkNicKeys(device: string, spec: Readonly<Record<string, string>>): void {
  const field = (key: string) => `devices["${device}"]["${key}"]`;
  if (spec.hwaddr !== undefined) parseMac(field('hwaddr'), spec.hwaddr);
  if (spec.mtu !== undefined && !(/^\d{2,5}$/.test(spec.mtu) && Number(spec.mtu) >= 68 && Number(spec.mtu) <= 65535)) {
    throw new ValidationError(field('mtu'), `"${spec.mtu}" is not an MTU from 68 to 65535`);
  }
  parseNicLimits(spec, `devices["${device}"]`);
}

/**
 * A `volatile.<dev>.hwaddr` for every nic without `hwaddr` and without one already, given before
 * the record is written, so that a nic hotplugged after the write keeps the MAC it was given.
 */
export function assignMacs(devices: Devices, volatile: Readonly<Record<string, string>>, generate: () => string = generateMac): VolatileChanges {
  const changes: VolatileChanges = {};
  for (const nic of nicsOf(devices)) if (macOf(nic, volatile) === undefined) changes[hwaddrKey(nic.device)] = generate();
  return changes;
}

/** The `volatile.<dev>.host_name` keys recorded in `volatile`, by key, with the host end each names. */
export function recordedHostNames(volatile: Readonly<Record<string, string>>): Array<[`volatile.${string}`, string]> {
  return Object.entries(volatile).filter((entry): entry is [`volatile.${string}`, string] => HOST_NAME_KEY.test(entry[0]));
}

/** Unsets every recorded `volatile.<dev>.host_name`: the nics are unplugged. */
export function forgetHostNames(volatile: Readonly<Record<string, string>>): VolatileChanges {
  return Object.fromEntries(recordedHostNames(volatile).map(([key]) => [key, null]));
}

/**
 * A working copy of an instance's volatile keys for a multi-step change: a later step sees what
 * an earlier one set (the MAC a nic was given), and the caller gets the difference at the end.
 */
export class VolatileDraft {
  private readonly current: Record<string, string>;

  constructor(private readonly original: Readonly<Record<string, string>>) {
    this.current = { ...original };
  }

  get values(): Readonly<Record<string, string>> {
    return this.current;
  }

  set(key: `volatile.${string}`, value: string): void {
    this.current[key] = value;
  }

  unset(key: `volatile.${string}`): void {
    delete this.current[key];
  }

  /** What differs from the original: keys set to a new value, and null for keys removed. */
  changes(): VolatileChanges {
    const changes: VolatileChanges = {};
    for (const key of new Set([...Object.keys(this.original), ...Object.keys(this.current)]) as Set<`volatile.${string}`>) {
      if (this.original[key] !== this.current[key]) changes[key] = this.current[key] ?? null;
    }
    return changes;
  }
}
