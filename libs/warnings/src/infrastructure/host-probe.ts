import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { lxcfsMount } from '#runtime';
import { cgroupMounts, INOTIFY_MINIMUMS, type CgroupFacts, type HostFacts, type InotifyKey } from '../domain/host-warnings.js';

const text = (path: string) => readFile(path, 'utf8').catch(() => '');
const exists = (path: string) => access(path).then(() => true, () => false);

/** Reads what the host checks need from the host itself: /proc, /sys and /etc. */
@Injectable()
export class HostProbe {
  async facts(): Promise<HostFacts> {
    const inotify = {} as Record<InotifyKey, number | undefined>;
    for (const key of Object.keys(INOTIFY_MINIMUMS) as InotifyKey[]) {
      const value = (await text(join('/proc/sys', ...key.split('.')))).trim();
      inotify[key] = /^\d+$/.test(value) ? Number(value) : undefined;
    }
    return {
      lxcfs: (await lxcfsMount()) !== undefined,
      inotify,
      subuid: await text('/etc/subuid'),
      subgid: await text('/etc/subgid'),
      cgroup: await this.cgroup(),
    };
  }

  private async cgroup(): Promise<CgroupFacts> {
    const { v1Controllers, cgroup2 } = cgroupMounts(await text('/proc/self/mountinfo'));
    const controllersOf = async (dir: string) => (await text(join(dir, 'cgroup.controllers'))).split(/\s+/).filter(Boolean);
    if (v1Controllers.length === 0 && cgroup2 !== undefined) {
      return { layout: 'unified', controllers: await controllersOf(cgroup2), unifiedControllers: [], swapAccounting: true, blkioWeight: true };
    }
    const root = '/sys/fs/cgroup';
    return {
      layout: cgroup2 === undefined ? 'legacy' : 'hybrid',
      controllers: v1Controllers,
      unifiedControllers: cgroup2 === undefined ? [] : await controllersOf(cgroup2),
      swapAccounting: await exists(join(root, 'memory', 'memory.memsw.limit_in_bytes')),
      blkioWeight: (await exists(join(root, 'blkio', 'blkio.weight'))) || (await exists(join(root, 'blkio', 'blkio.bfq.weight'))),
    };
  }
}
