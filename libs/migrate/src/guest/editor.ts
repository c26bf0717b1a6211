import path from 'node:path';

import type { GuestRoot } from '#runtime';

import type { ChangeArea, GuestChange } from './report.js';

export const BACKUP_SUFFIX = '.berth-orig';

/**
 * Directories whose every file is read as configuration (ifupdown's `source interfaces.d/*`,
 * NetworkManager's keyfiles): a backup there is hidden (`.<name>.berth-orig`), which both skip,
 * or it would be read as a second copy of the old configuration.
 */
const WHOLLY_READ_DIRS = new Set(['/etc/network/interfaces.d', '/etc/NetworkManager/system-connections']);

export function backupPath(guestPath: string): string {
  const dir = path.posix.dirname(guestPath);
  const base = path.posix.basename(guestPath);
  return WHOLLY_READ_DIRS.has(dir) ? `${dir}/.${base}${BACKUP_SUFFIX}` : `${guestPath}${BACKUP_SUFFIX}`;
}

/**
 * Changes a guest through its GuestRoot and records each change; in a dry run records the very
 * same changes and writes nothing. The first backup of a file is never overwritten: it is the
 * VM's original.
 */
export class GuestEditor {
  readonly changes: GuestChange[] = [];

  constructor(
    private readonly guest: GuestRoot,
    readonly dryRun: boolean,
  ) {}

  /** Replaces a file's content (a symlink there is itself kept as the backup, then replaced by a file). */
  async replaceText(guestPath: string, text: string, area: ChangeArea, edits: Array<Pick<GuestChange, 'action' | 'detail'>>): Promise<void> {
    const backup = backupPath(guestPath);
    if (!this.dryRun) {
      const current = await this.guest.lstat(guestPath);
      const hasBackup = (await this.guest.lstatIfExists(backup)) !== null;
      if (current.type === 'symlink') {
        if (hasBackup) await this.guest.unlink(guestPath);
        else await this.guest.rename(guestPath, backup, { noReplace: true });
      } else if (!hasBackup) {
        const original = await this.guest.readFile(guestPath);
        await this.guest.writeFile(backup, original, { mode: current.mode, uid: current.uid, gid: current.gid });
      }
      await this.guest.writeFile(guestPath, text);
    }
    for (const edit of edits) this.changes.push({ area, path: guestPath, ...edit, backup });
  }

  /** Masks a unit: a /dev/null symlink in /etc/systemd/system (what was there is kept as the backup). */
  async mask(unit: string, detail: string): Promise<boolean> {
    const unitPath = `/etc/systemd/system/${unit}`;
    const existing = await this.guest.lstatIfExists(unitPath);
    if (existing?.type === 'symlink' && (await this.guest.readlink(unitPath)) === '/dev/null') return false;
    const backup = existing ? backupPath(unitPath) : undefined;
    if (!this.dryRun) {
      if (existing && backup) {
        if ((await this.guest.lstatIfExists(backup)) === null) await this.guest.rename(unitPath, backup, { noReplace: true });
        else await this.guest.unlink(unitPath);
      }
      await this.guest.mkdir('/etc/systemd/system', { recursive: true });
      await this.guest.symlink('/dev/null', unitPath);
    }
    this.changes.push({ area: 'units', path: unitPath, action: 'masked', detail, ...(backup ? { backup } : {}) });
    return true;
  }

  /** Disables a hook script by renaming it to `<name>.berth-orig`; false if that name is taken. */
  async disable(guestPath: string, area: ChangeArea, detail: string): Promise<boolean> {
    const backup = backupPath(guestPath);
    if ((await this.guest.lstatIfExists(backup)) !== null) return false;
    if (!this.dryRun) await this.guest.rename(guestPath, backup, { noReplace: true });
    this.changes.push({ area, path: guestPath, action: 'disabled', detail, backup });
    return true;
  }
}
