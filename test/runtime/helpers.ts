import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Runtime } from '#runtime';

import { copyRootfs } from '../support/rootfs.js';

/** The berth-monitor executable, from dist/test/runtime/ (three levels below the repository). */
export const monitorPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../native/build/Release/berth-monitor');

export const NAMESPACES = ['pid', 'mnt', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'] as const;

/** A temporary BERTH_DIR (root 0700) with a runtime, and a private rootfs copy per container. */
export class Sandbox {
  private constructor(
    readonly dir: string,
    readonly runtime: Runtime,
  ) {}

  static async create(): Promise<Sandbox> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-runtime-'));
    return new Sandbox(dir, new Runtime({ berthDir: path.join(dir, 'berth') }));
  }

  async rootfs(name: string): Promise<string> {
    await mkdir(path.join(this.dir, 'volumes'), { recursive: true, mode: 0o700 });
    return copyRootfs(path.join(this.dir, 'volumes', name));
  }

  /** Stops whatever is still running, then removes everything. */
  async dispose(): Promise<void> {
    for (const state of await this.runtime.adoptRunning()) {
      await this.runtime.stop(state.name, { force: true }).catch(() => undefined);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Mount points of every cgroup hierarchy on the host (v1 controllers, name=systemd, cgroup2). */
export async function cgroupMounts(): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => {
      const sep = f.indexOf('-');
      return sep > 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2');
    })
    .map((f) => f[4]!);
}

export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export function statusField(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line ? line.slice(field.length + 1).trim() : '';
}

export function exists(p: string): boolean {
  return existsSync(p);
}
