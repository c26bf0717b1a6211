import type { GuestInterface, NetworkConfigKind } from './network-config.js';

/** What inspection found out about a guest root filesystem. */
export interface GuestFacts {
  os: { id: string; versionId?: string; prettyName?: string };
  /** `uname -m` style, from the ELF header of the init binary. */
  architecture: string;
  init: 'systemd';
  /** Where /sbin/init leads inside the guest, e.g. `/lib/systemd/systemd`. */
  initPath: string;
  hostname?: string;
  /** The configuration system that sets up the guest's network (the first found of netplan, ifupdown, networkd, NetworkManager). */
  networkConfig: NetworkConfigKind;
  /** Every non-loopback interface any of those systems configures, in the order they are read. */
  interfaces: GuestInterface[];
}

export type ChangeArea = 'fstab' | 'network' | 'units' | 'hooks';

/** One change made to the guest (or that a dry run would make). */
export interface GuestChange {
  area: ChangeArea;
  /** Guest path of the file changed. */
  path: string;
  action: 'commented' | 'rewritten' | 'masked' | 'drop-in' | 'disabled';
  detail: string;
  /** Where the previous content is kept (guest path), when something was replaced. */
  backup?: string;
}

export interface NetworkOutcome {
  config: NetworkConfigKind;
  /** The VM's primary interface, when it was moved to eth0. */
  oldInterface?: string;
  newInterface: 'eth0';
  mode: 'dhcp';
  /** The static address the VM had, e.g. `192.168.122.50/24`. */
  staticAddress?: string;
  /** The address to reserve on Berth's network: the VM's, when it fits the subnet (and is not the gateway). */
  reservation?: string;
}

export interface MigrationReport {
  guest: GuestFacts;
  changes: GuestChange[];
  /** What was deliberately left alone. */
  kept: string[];
  network: NetworkOutcome;
  warnings: string[];
}

/** The report as the CLI prints it. */
export function renderReport(report: MigrationReport): string {
  const { guest, network } = report;
  const out: string[] = [];
  const os = guest.os.prettyName ?? [guest.os.id, guest.os.versionId].filter(Boolean).join(' ');
  out.push(`Guest: ${os}, ${guest.architecture}, systemd (${guest.initPath})${guest.hostname ? `, hostname ${guest.hostname}` : ''}`);
  out.push('');
  if (report.changes.length === 0) {
    out.push('Changes: none, the guest was ready for a container');
  } else {
    out.push(`Changes (${report.changes.length}):`);
    const areaWidth = Math.max(...report.changes.map((c) => c.area.length));
    const actionWidth = Math.max(...report.changes.map((c) => c.action.length));
    for (const change of report.changes) {
      out.push(`  ${change.area.padEnd(areaWidth)}  ${change.action.padEnd(actionWidth)}  ${change.path}: ${change.detail}`);
      if (change.backup) out.push(`  ${''.padEnd(areaWidth)}  ${''.padEnd(actionWidth)}  (original kept as ${change.backup})`);
    }
  }
  out.push('');
  const moved = network.oldInterface ? `${network.oldInterface} → ${network.newInterface}` : network.newInterface;
  const config = network.config === 'none' ? 'no configuration found' : network.config;
  out.push(`Network: ${config}; ${moved} by DHCP`);
  if (network.staticAddress) {
    out.push(
      network.reservation
        ? `  the VM had ${network.staticAddress}: ${network.reservation} is reserved for it on Berth's network, so it keeps its address`
        : `  the VM had ${network.staticAddress}, which Berth's network cannot give it: it gets a new address by DHCP`,
    );
  }
  out.push('');
  out.push('Kept as they were:');
  for (const item of report.kept) out.push(`  - ${item}`);
  if (report.warnings.length > 0) {
    out.push('');
    out.push('Warnings:');
    for (const warning of report.warnings) out.push(`  ! ${warning}`);
  }
  return `${out.join('\n')}\n`;
}
