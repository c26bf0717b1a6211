import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriverName } from '../domain/storage-driver.js';
import { MIN_POOL_SIZE_BYTES } from '../domain/pool-size.js';
import { CommandFailure, runCommand, type CommandRunner } from './command-runner.js';
import { exists, realpathIfExists } from './fs-helpers.js';
import { LoopDevices } from './loop-devices.js';
import { mountAt } from './mount-table.js';

export interface DriverChoice {
  driver: DriverName;
  /** Why, in words for the daemon's log (e.g. why btrfs could not be used). */
  reason: string;
}

/**
 * Chooses btrfs when it really works here, else dir. Having btrfs-progs is not enough (a
 * container without loop devices, a kernel without btrfs), so the probe does what a pool needs
 * on a scratch file under BERTH_DIR: mkfs, attach a loop device, mount, then undoes it all.
 */
export async function chooseDriver(berthDir: string, run: CommandRunner = runCommand): Promise<DriverChoice> {
  for (const tool of ['mkfs.btrfs', 'btrfs']) {
    try {
      await run(tool, ['--version']);
    } catch (error) {
      const missing = error instanceof CommandFailure && error.notInstalled;
      return { driver: 'dir', reason: missing ? `btrfs-progs is not installed (${tool} not found)` : `${tool} does not run: ${describe(error)}` };
    }
  }
  const scratch = await mkdtemp(join(berthDir, '.storage-probe-'));
  const loops = new LoopDevices(run);
  const file = join(scratch, 'probe.img');
  const mountPoint = join(scratch, 'mnt');
  try {
    const handle = await open(file, 'wx', 0o600);
    await handle.truncate(MIN_POOL_SIZE_BYTES).finally(() => handle.close());
    await run('mkfs.btrfs', ['--quiet', '--nodiscard', file]);
    const device = await loops.attach(file);
    await mkdir(mountPoint);
    await run('mount', ['-t', 'btrfs', device, mountPoint]);
    return { driver: 'btrfs', reason: 'btrfs-progs is installed and a btrfs loop file mounts' };
  } catch (error) {
    return { driver: 'dir', reason: `btrfs on a loop file does not work here: ${describe(error)}` };
  } finally {
    // Asked of the mount table rather than remembered: a mount may succeed and still report failure.
    const realMountPoint = await realpathIfExists(mountPoint);
    if (realMountPoint && (await mountAt(realMountPoint))) await run('umount', [mountPoint]);
    if (await exists(file)) await loops.detachAll(file);
    await rm(scratch, { recursive: true, force: true });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.trim() : String(error);
}
