import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildRecipeRootfs, cachedDirectory, loadRecipe } from '../../libs/images/src/recipes/recipe-builder.js';

const run = promisify(execFile);

/** test/fixtures/lamp (its recipe.yaml and pack-vm.sh), from dist/test/support/ (three levels below the repository). */
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/lamp', import.meta.url));
const PACK = join(FIXTURE, 'pack-vm.sh');

/**
 * A Debian 12 LAMP server as debian-installer leaves it on a VM (Apache with mod_php, MariaDB,
 * the notes application of images/debian-12-lamp/app with rows written, ifupdown with a static
 * address, a VM fstab, SSH host keys, a user with a crontab, a cron job, a fake kernel), in the
 * three shapes `berth import-vm` takes. Shared and read-only: copy before changing anything.
 */
export interface LampVm {
  /** The VM's tree as if mounted, /boot included. */
  rootfs: string;
  /** `tar --numeric-owner --xattrs --acls --one-file-system -cpzf` of the tree, as made on a VM. */
  tarball: string;
  /**
   * A sparse GPT disk image: 1 BIOS boot (1 MiB), 2 /boot ext4 (the fake kernel), 3 swap (64 MiB),
   * 4 the root ext4 (type 0FC63DAF-8483-4772-8E79-3D69D8477DE4, Linux filesystem), whose UUID
   * /etc/fstab names.
   */
  rawDisk: string;
  /** The bodies of the rows already in notes.notes, in id order (ids 1, 2, 3...). */
  rows: string[];
  /** 'lampvm', in /etc/hostname. */
  hostname: string;
  /** 'alice' (uid 1001), with a home directory and a crontab line. */
  user: string;
  /** '192.168.122.50/24': the VM's address in /etc/network/interfaces, outside Berth's networks. */
  staticAddress: string;
  /** 'ens3': the interface /etc/network/interfaces configures. */
  oldInterface: string;
}

/**
 * The LAMP VM fixture, built on first use (a few minutes: debootstrap, apt, tar, mkfs) and cached:
 * the tree of test/fixtures/lamp/recipe.yaml as every recipe's (/var/cache/berth/rootfs/<key>/),
 * packed by test/fixtures/lamp/pack-vm.sh into $BERTH_LAMP_VM_CACHE or /var/cache/berth/lamp-vm,
 * under the sha256 of the tree's key and the script. Concurrent callers wait for one build.
 */
export async function ensureLampVm(): Promise<LampVm> {
  const tree = await buildRecipeRootfs(await loadRecipe(FIXTURE));
  const key = createHash('sha256').update(tree.key).update(await readFile(PACK)).digest('hex');
  const { path: dir } = await cachedDirectory(process.env.BERTH_LAMP_VM_CACHE ?? '/var/cache/berth/lamp-vm', key, async (result) => {
    await run(PACK, [tree.rootfs, result], { maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60 * 1000 });
  });
  const facts = JSON.parse(await readFile(join(dir, 'vm.json'), 'utf8')) as Pick<LampVm, 'rows' | 'hostname' | 'user' | 'staticAddress' | 'oldInterface'>;
  return {
    rootfs: join(dir, 'rootfs'),
    tarball: join(dir, 'vm.tar.gz'),
    rawDisk: join(dir, 'disk.raw'),
    rows: facts.rows,
    hostname: facts.hostname,
    user: facts.user,
    staticAddress: facts.staticAddress,
    oldInterface: facts.oldInterface,
  };
}
