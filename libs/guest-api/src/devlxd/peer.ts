import { readFile, readlink } from 'node:fs/promises';

/** How deep an ancestry is walked (a guest's nested containers, its exec'd shells). */
const MAX_DEPTH = 64;

const pidNamespace = (proc: string, pid: number) => readlink(`${proc}/${pid}/ns/pid`).catch(() => undefined);

async function parentOf(proc: string, pid: number): Promise<number> {
  const status = await readFile(`${proc}/${pid}/status`, 'utf8').catch(() => '');
  const ppid = /^PPid:\s*(\d+)$/m.exec(status);
  return ppid ? Number(ppid[1]) : 0;
}

/**
 * Whether the process `pid` (as the host sees it) runs in the container whose init is `init`:
 * it, or one of its ancestors, is in init's pid namespace (as LXD's devlxd matches a peer: a
 * process of a container nested in it belongs to it too).
 */
export async function inContainerOf(pid: number, init: number, proc = '/proc'): Promise<boolean> {
  if (pid <= 0 || init <= 0) return false;
  const target = await pidNamespace(proc, init);
  if (target === undefined) return false;
  for (let depth = 0, p = pid; depth < MAX_DEPTH && p > 1; depth++, p = await parentOf(proc, p)) {
    const ns = await pidNamespace(proc, p);
    if (ns === undefined) return false;
    if (ns === target) return true;
  }
  return false;
}
