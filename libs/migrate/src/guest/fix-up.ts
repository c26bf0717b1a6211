import { ValidationError } from '#core';
import { GuestRoot } from '#runtime';

import { GuestEditor } from './editor.js';
import { readTextIfRegular } from './guest-files.js';
import { rewriteFstab } from './fstab.js';
import { disableKernelHooks } from './hooks.js';
import { inspectGuest } from './inspect.js';
import { parseCidr, parseIpv4 } from './ipv4.js';
import { keptItems } from './kept.js';
import { discoverNetwork, fixUpNetwork } from './network.js';
import type { MigrationReport } from './report.js';
import { credentialWarnings, enabledUnits, maskUnits } from './units.js';

export interface FixUpOptions {
  /** Compute the very same report and write nothing. */
  dryRun: boolean;
  /** The Berth network the container's eth0 will be on, to tell whether the VM's address can be kept. */
  network?: { name: string; subnet: string; gateway: string } | null;
  /** The time of the migration (default: now); noted in the fstab. */
  now?: Date;
}

/**
 * Adapts a VM's root filesystem to boot as a Berth system container, and says exactly what it
 * changed: fstab entries of disks, swap and /boot commented out; the primary interface moved to
 * eth0 by DHCP; units that cannot work in a container masked; kernel and boot loader hooks
 * disabled. Every replaced file is kept as `<file>.berth-orig` first. Refuses like
 * `inspectGuest`. A second run on a fixed guest changes nothing.
 */
export async function fixUpGuest(root: string, options: FixUpOptions): Promise<MigrationReport> {
  if (options.network) {
    if (!parseCidr(options.network.subnet)) throw new ValidationError('network.subnet', 'must be an IPv4 subnet like 10.1.2.0/24');
    if (parseIpv4(options.network.gateway) === undefined) throw new ValidationError('network.gateway', 'must be an IPv4 address');
  }
  const guestFacts = await inspectGuest(root);
  const guest = new GuestRoot(root);
  const editor = new GuestEditor(guest, options.dryRun);
  const warnings: string[] = [];
  const date = (options.now ?? new Date()).toISOString().slice(0, 10);

  const fstabText = await readTextIfRegular(guest, '/etc/fstab');
  if (fstabText !== undefined) {
    const fstab = rewriteFstab(fstabText, `berth import-vm, ${date}`);
    warnings.push(...fstab.warnings);
    if (fstab.edits.length > 0) {
      await editor.replaceText(
        '/etc/fstab',
        fstab.text,
        'fstab',
        fstab.edits.map((e) => ({ action: 'commented', detail: `${e.spec} on ${e.mountPoint}: ${e.reason}` })),
      );
    }
  }

  const network = await fixUpNetwork(guest, editor, await discoverNetwork(guest), options.network);
  warnings.push(...network.warnings);
  if (options.network === null || options.network === undefined) {
    warnings.push('the instance gets no Berth network: eth0 will not exist until a nic is added');
  }

  await maskUnits(guest, editor);
  await disableKernelHooks(guest, editor);

  const enabled = await enabledUnits(guest);
  warnings.push(...(await credentialWarnings(guest, enabled)));

  return {
    guest: guestFacts,
    changes: editor.changes,
    kept: await keptItems(guest, guestFacts.hostname, enabled),
    network: network.outcome,
    warnings,
  };
}
