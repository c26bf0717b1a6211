import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '#core';
import { isLoopback, portForwardId, type PortForward } from '../domain/port-forward.js';
import { runJson } from './command.js';
import type { NatBackend } from './nat-backend.js';
import { detectNatBackend } from './nftables-nat.js';

/** A proxy device's forward as installed on the host, from its record. */
export interface InstalledForward {
  readonly instance: string;
  readonly device: string;
  readonly id: string;
  readonly forward: PortForward;
}

let detected: Promise<NatBackend> | undefined;

/** The host's NAT backend, detected once per process. */
export function hostNatBackend(): Promise<NatBackend> {
  detected ??= detectNatBackend().catch((err: unknown) => {
    detected = undefined;
    throw err;
  });
  return detected;
}

/** `$BERTH_DIR/containers/<instance>/proxy-<device>.nat`: what was installed, so that it can be found and removed without the database. */
function recordFile(berthDir: string, instance: string, device: string): string {
  return join(berthDir, 'containers', instance, `proxy-${device}.nat`);
}

/** The forwards installed for `instance` (or for every instance), read from their records. */
export async function installedForwards(berthDir: string, instance?: string): Promise<InstalledForward[]> {
  const instances = instance !== undefined ? [instance] : await readdir(join(berthDir, 'containers')).catch(() => [] as string[]);
  const found: InstalledForward[] = [];
  for (const name of instances) {
    for (const file of (await readdir(join(berthDir, 'containers', name)).catch(() => [] as string[])).sort()) {
      const device = /^proxy-(.+)\.nat$/.exec(file)?.[1];
      if (device === undefined) continue;
      const text = await readFile(recordFile(berthDir, name, device), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      found.push({ instance: name, device, id: portForwardId(berthDir, name, device), forward: JSON.parse(text) as PortForward });
    }
  }
  return found;
}

function routeLocalnet(bridge: string, on: boolean): Promise<void> {
  return writeFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, on ? '1' : '0');
}

/** Refuses a listen address that no interface of the host has (127.0.0.0/8 always is the host's). */
export async function assertHostAddress(field: string, address: string): Promise<void> {
  if (isLoopback(address)) return;
  const links = await runJson<Array<{ addr_info: Array<{ local: string }> }>>('ip', ['-j', '-4', 'addr', 'show']);
  if (!links.some((l) => l.addr_info.some((a) => a.local === address))) {
    throw new ValidationError(field, `${address} is not an address of this host (nat=true listens on one of the host's own addresses)`);
  }
}

/**
 * Installs the kernel rules of one device's forward (replacing earlier ones) and records them. A
 * loopback listen address needs route_localnet on the bridge, turned on only once the rule that
 * drops 127.0.0.0/8 arriving from the bridge is in place.
 */
export async function installForward(nat: NatBackend, berthDir: string, instance: string, device: string, forward: PortForward): Promise<void> {
  const id = portForwardId(berthDir, instance, device);
  const file = recordFile(berthDir, instance, device);
  // The record first: a crash after the rules leaves something that points at them.
  await writeFile(`${file}.tmp`, `${JSON.stringify(forward)}\n`);
  await rename(`${file}.tmp`, file);
  try {
    await nat.installForward(id, forward);
    if (isLoopback(forward.listenAddress)) await routeLocalnet(forward.bridge, true);
  } catch (err) {
    await removeForward(nat, berthDir, { instance, device, id, forward }).catch(() => undefined);
    throw err;
  }
}

/** Removes one forward's rules and record; the last loopback forward on a bridge turns route_localnet off first. */
export async function removeForward(nat: NatBackend, berthDir: string, installed: InstalledForward): Promise<void> {
  const { forward } = installed;
  if (isLoopback(forward.listenAddress) && (await nat.localnetGuards(forward.bridge)) <= 1) {
    // The bridge may be gone (its network deleted): then so is its sysctl.
    await routeLocalnet(forward.bridge, false).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await nat.removeForward(installed.id);
  await unlink(recordFile(berthDir, installed.instance, installed.device)).catch(() => undefined);
}
