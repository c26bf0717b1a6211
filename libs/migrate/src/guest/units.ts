import type { GuestRoot } from '#runtime';

import type { GuestEditor } from './editor.js';
import { readTextIfRegular, readdirIfExists } from './guest-files.js';

const UNIT_DIRS = ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

interface Mask {
  unit: string;
  /** The unit file that must exist in the guest for the mask to matter (a template for instances). */
  file: string;
  /** SysV init scripts systemd would turn into the unit. */
  initScripts?: string[];
  reason: string;
}

const KERNEL_FS = 'a kernel filesystem that only the host mounts';
const TTYS = [1, 2, 3, 4, 5, 6].map((n) => `tty${n}`);

/**
 * Units that have nothing to do in a container, or fail there. Measured on Berth (Debian 12,
 * systemd 252): systemd-remount-fs fails ("mount: /: permission denied") whenever fstab lists
 * the root; the others are skipped by their conditions on current systemd but not on every
 * distribution's, and would wait for or touch hardware the container does not have.
 */
const MASKS: Mask[] = [
  { unit: 'systemd-modules-load.service', file: 'systemd-modules-load.service', reason: 'kernel modules are the host\'s: a container cannot load them' },
  { unit: 'sys-kernel-config.mount', file: 'sys-kernel-config.mount', reason: KERNEL_FS },
  { unit: 'sys-kernel-debug.mount', file: 'sys-kernel-debug.mount', reason: KERNEL_FS },
  { unit: 'sys-kernel-tracing.mount', file: 'sys-kernel-tracing.mount', reason: KERNEL_FS },
  { unit: 'dev-hugepages.mount', file: 'dev-hugepages.mount', reason: 'hugetlbfs cannot be mounted in an unprivileged container' },
  { unit: 'systemd-udev-settle.service', file: 'systemd-udev-settle.service', reason: 'no udev runs in a container: it would only wait until its timeout' },
  { unit: 'hwclock.service', file: 'hwclock.service', initScripts: ['/etc/init.d/hwclock.sh', '/etc/init.d/hwclock'], reason: 'the hardware clock is the host\'s' },
  {
    unit: 'systemd-remount-fs.service',
    file: 'systemd-remount-fs.service',
    reason: 'remounting the root fails in a container ("mount: /: permission denied"): the root and its options are Berth\'s',
  },
  ...TTYS.map((tty) => ({
    unit: `getty@${tty}.service`,
    file: 'getty@.service',
    reason: `a container has no ${tty}, only /dev/console (console-getty.service serves it)`,
  })),
];

async function unitExists(guest: GuestRoot, mask: Mask): Promise<boolean> {
  for (const dir of UNIT_DIRS) {
    const file = `${dir}/${mask.file}`;
    const st = await guest.lstatIfExists(file);
    if (st && !(st.type === 'symlink' && (await guest.readlink(file)) === '/dev/null')) return true;
  }
  for (const script of mask.initScripts ?? []) {
    if (await guest.lstatIfExists(script)) return true;
  }
  return false;
}

/** Masks the units of MASKS that the guest has. */
export async function maskUnits(guest: GuestRoot, editor: GuestEditor): Promise<void> {
  for (const mask of MASKS) {
    if (await unitExists(guest, mask)) await editor.mask(mask.unit, mask.reason);
  }
}

/** Units enabled by the admin: the names in /etc/systemd/system/*.wants and *.requires. */
export async function enabledUnits(guest: GuestRoot): Promise<string[]> {
  const names = new Set<string>();
  for (const entry of await readdirIfExists(guest, '/etc/systemd/system')) {
    if (entry.type !== 'directory' || !/\.(wants|requires)$/.test(entry.name)) continue;
    for (const unit of await readdirIfExists(guest, `/etc/systemd/system/${entry.name}`)) names.add(unit.name);
  }
  return [...names].sort();
}

/**
 * Enabled units that load credentials from files: systemd 252 (Debian 12) cannot set them up in
 * an unprivileged container, measured on Berth (the unit fails at step CREDENTIALS with
 * "Protocol error"). No drop-in fixes that without taking the credential away, so it is a warning.
 */
export async function credentialWarnings(guest: GuestRoot, enabled: string[]): Promise<string[]> {
  const warnings: string[] = [];
  for (const unit of enabled) {
    const text = await unitText(guest, unit.replace(/@[^.]+\./, '@.'));
    if (!text) continue;
    const line = text.split('\n').find((l) => /^\s*(LoadCredential=[^:\s]+:|LoadCredentialEncrypted=|SetCredential)/.test(l));
    if (line) {
      warnings.push(`${unit} has "${line.trim()}": systemd 252 cannot set up credentials in an unprivileged container (the unit fails at step CREDENTIALS); newer systemd or a privileged container may`);
    }
  }
  return warnings;
}

async function unitText(guest: GuestRoot, unit: string): Promise<string | undefined> {
  for (const dir of UNIT_DIRS) {
    const text = await readTextIfRegular(guest, `${dir}/${unit}`);
    if (text !== undefined) return text;
  }
  return undefined;
}
