import { constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '#core';
import type { CgroupWrite } from '../domain/cgroup-settings.js';

/** Where one container's cgroup lives: per controller on v1 (and hybrid), one directory on v2. */
export type CgroupTarget = { version: 1; paths: Partial<Record<CgroupWrite['controller'], string>> } | { version: 2; path: string };

export interface AppliedSetting {
  file: string;
  requested: string;
  /** What the kernel reports after the write (it may round, e.g. memory to the page size). */
  actual: string;
}

export class CgroupWriteError extends DomainError {
  readonly code = 'QUOTA.APPLY_FAILED';
  constructor(readonly file: string, readonly value: string, readonly errno: string) {
    super(`Could not apply ${file}=${value}: ${errno}`);
  }
}

function pathOf(target: CgroupTarget, w: CgroupWrite): string {
  if (target.version === 2) return join(target.path, w.file);
  const dir = target.paths[w.controller];
  if (!dir) throw new CgroupWriteError(w.file, w.value, `the ${w.controller} controller is not available`);
  return join(dir, w.file);
}

async function write(path: string, value: string): Promise<void> {
  // No O_CREAT: cgroup files are never created by writing; a missing one is an error.
  // (libuv opens every descriptor with O_CLOEXEC.)
  await writeFile(path, value, { flag: constants.O_WRONLY | constants.O_TRUNC });
}

/**
 * Applies the writes in order and reads every file back. A v1 memory limit above the current
 * memory+swap limit is refused by the kernel until memsw is raised, so on EINVAL the memsw write
 * goes first.
 */
export async function applyCgroupWrites(target: CgroupTarget, writes: CgroupWrite[]): Promise<AppliedSetting[]> {
  const pending = [...writes];
  const applied: AppliedSetting[] = [];
  while (pending.length > 0) {
    const w = pending.shift()!;
    const path = pathOf(target, w);
    try {
      await write(path, w.value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      const memsw = pending.findIndex((p) => p.file === 'memory.memsw.limit_in_bytes');
      if (code === 'EINVAL' && w.file === 'memory.limit_in_bytes' && memsw >= 0) {
        const [first] = pending.splice(memsw, 1);
        pending.unshift(first, w);
        continue;
      }
      throw new CgroupWriteError(w.file, w.value, code);
    }
    applied.push({ file: w.file, requested: w.value, actual: (await readFile(path, 'utf8')).trim() });
  }
  return applied;
}
