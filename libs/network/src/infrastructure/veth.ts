import type { NicLimits } from '../domain/bit-rate.js';
import { NetworkCommandError, NicAlreadyExistsError } from '../domain/network.errors.js';
import { parseMac } from '../domain/mac.js';
import { deleteLinkIfExists, findLink, ip, netnsPath, setLinkUp, type NetnsRef } from './iproute.js';
import { applyNicLimits, removeNicShaping } from './traffic-shaper.js';

/** What a bridged nic needs: both ends' names, the bridge, the container's namespace. */
export interface VethNicSpec {
  /** The host end, e.g. from hostVethName(uuid, device); at most 15 characters. */
  readonly hostName: string;
  /** The bridge the host end joins. */
  readonly bridge: string;
  /** The container's network namespace. */
  readonly netns: NetnsRef;
  /** The name inside the container, `eth0` by default. */
  readonly name?: string;
  readonly mac: string;
  readonly mtu?: number;
  readonly limits?: NicLimits;
}

/**
 * Creates a veth pair whose container end is born inside the container's namespace with its final
 * name, MAC and MTU (one netlink request: it never appears on the host, so it cannot clash with a
 * host interface called eth0), joins the host end to the bridge, brings both up and applies the
 * limits. On failure, the pair is deleted again.
 */
export async function createVethNic(spec: VethNicSpec): Promise<void> {
  const mac = parseMac('hwaddr', spec.mac);
  const inner = spec.name ?? 'eth0';
  const mtu = spec.mtu === undefined ? [] : ['mtu', String(spec.mtu)];
  if (await findLink(spec.hostName)) throw new NicAlreadyExistsError(spec.hostName);
  try {
    await ip(['link', 'add', 'name', spec.hostName, ...mtu, 'type', 'veth', 'peer', 'name', inner, 'address', mac, ...mtu, 'netns', netnsPath(spec.netns)]);
  } catch (err) {
    if (err instanceof NetworkCommandError && /File exists/.test(err.stderr)) throw new NicAlreadyExistsError(inner);
    throw err;
  }
  try {
    await attachVethNic(spec.hostName, spec.bridge);
    await setLinkUp(inner, spec.netns);
    if (spec.limits) await applyNicLimits(spec.hostName, spec.limits);
  } catch (err) {
    await deleteLinkIfExists(spec.hostName);
    await removeNicShaping(spec.hostName);
    throw err;
  }
}

/**
 * Joins an existing host end to a bridge again, as after the bridge was re-created (a reboot of
 * the network, or berthd adopting running containers after the bridge went away).
 */
export async function attachVethNic(hostName: string, bridge: string): Promise<void> {
  await ip(['link', 'set', 'dev', hostName, 'master', bridge, 'up']);
}

/**
 * Removes a nic by its host end (the container end goes with it). Returns false when it was
 * already gone, e.g. because the container's namespace died and took the pair with it.
 */
export async function deleteVethNic(hostName: string): Promise<boolean> {
  const existed = await deleteLinkIfExists(hostName);
  await removeNicShaping(hostName);
  return existed;
}
