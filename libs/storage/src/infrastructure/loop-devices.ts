import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandRunner } from './command-runner.js';

/**
 * Loop devices through util-linux's losetup(8). The device name is needed (to mkfs, mount and
 * later find and detach it), so devices are attached explicitly rather than with `mount -o loop`.
 */
export class LoopDevices {
  constructor(private readonly run: CommandRunner) {}

  /** Attaches `file` to the first free loop device and returns the device path. */
  async attach(file: string): Promise<string> {
    const { stdout } = await this.run('losetup', ['--find', '--show', file]);
    return stdout.trim();
  }

  /** Every loop device backed by `file` (matched by inode, so a renamed path still matches). */
  async backing(file: string): Promise<string[]> {
    const { stdout } = await this.run('losetup', ['--list', '--noheadings', '--output', 'NAME', '--associated', file]);
    return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /**
   * Detaches every device backed by `file`. The kernel defers the detach of a device that is
   * still open (e.g. udev probing it right after umount), so wait until it is really gone.
   */
  async detachAll(file: string, timeoutMs = 5000): Promise<string[]> {
    const devices = await this.backing(file);
    for (const device of devices) await this.run('losetup', ['--detach', device]);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = await this.backing(file);
      if (remaining.length === 0) return devices;
      if (Date.now() > deadline) throw new LoopDeviceBusyError(file, remaining);
      await sleep(20);
    }
  }
}

/** A loop device stayed attached after `losetup --detach`: something (a mount elsewhere) holds it open. */
export class LoopDeviceBusyError extends Error {
  constructor(readonly file: string, readonly devices: string[]) {
    super(`loop device ${devices.join(', ')} backed by ${file} is still attached after detaching: it is in use`);
    this.name = 'LoopDeviceBusyError';
  }
}
