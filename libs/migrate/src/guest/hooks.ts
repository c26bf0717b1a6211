import type { GuestRoot } from '#runtime';

import type { GuestEditor } from './editor.js';
import { readdirIfExists } from './guest-files.js';

/** Hook directories run by run-parts when kernel packages or initramfs images change. */
const RUN_PARTS_DIRS = [
  '/etc/kernel/preinst.d',
  '/etc/kernel/postinst.d',
  '/etc/kernel/prerm.d',
  '/etc/kernel/postrm.d',
  '/etc/initramfs/post-update.d',
];
/** run-parts(8) runs only names made of these characters. */
const RUN_PARTS_NAME = /^[A-Za-z0-9_-]+$/;

const REASON = 'a container runs the host\'s kernel: installing or removing kernel packages must not build an initramfs or update a boot loader';

/**
 * Disables the kernel and boot loader update hooks (update-initramfs, zz-update-grub, ...) and
 * kernel-install plugins, by renaming each to `<name>.berth-orig`, a name they are not run by.
 */
export async function disableKernelHooks(guest: GuestRoot, editor: GuestEditor): Promise<void> {
  for (const dir of RUN_PARTS_DIRS) {
    for (const entry of await readdirIfExists(guest, dir)) {
      if ((entry.type === 'file' || entry.type === 'symlink') && RUN_PARTS_NAME.test(entry.name)) {
        await editor.disable(`${dir}/${entry.name}`, 'hooks', REASON);
      }
    }
  }
  for (const entry of await readdirIfExists(guest, '/etc/kernel/install.d')) {
    if ((entry.type === 'file' || entry.type === 'symlink') && entry.name.endsWith('.install')) {
      await editor.disable(`/etc/kernel/install.d/${entry.name}`, 'hooks', REASON);
    }
  }
}
