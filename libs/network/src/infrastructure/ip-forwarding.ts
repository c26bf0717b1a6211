import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const SYSCTL = '/proc/sys/net/ipv4/ip_forward';
const MARKER = 'enabled-by-berth';
const LOCK = 'lock';

/**
 * net.ipv4.ip_forward is host-wide, and several Berth daemons (each with its own BERTH_DIR) may
 * share a host. So the switch is reference-counted in one host-wide registry: one file per network
 * holding it, plus a marker written only when Berth itself turned forwarding on. When the last
 * holder goes and the marker is there, forwarding is turned back off; if it was already on before
 * Berth came, it is left on. The registry lives in /run, which, like the sysctl, resets at boot.
 */
export class IpForwarding {
  constructor(private readonly registry = '/run/berth/ip-forward') {}

  /** Turns forwarding on (if needed) for `holder`, an identifier unique on the host. */
  async acquire(holder: string): Promise<void> {
    await this.locked(async () => {
      await writeFile(join(this.registry, holderFile(holder)), `${holder}\n`);
      if ((await readFile(SYSCTL, 'utf8')).trim() !== '1') {
        await writeFile(join(this.registry, MARKER), '0\n');
        await writeFile(SYSCTL, '1');
      }
    });
  }

  /** Drops `holder`; the last one out restores forwarding if Berth had turned it on. */
  async release(holder: string): Promise<void> {
    await this.locked(async () => {
      await rm(join(this.registry, holderFile(holder)), { force: true });
      const remaining = (await readdir(this.registry)).filter((f) => f.startsWith('holder-'));
      if (remaining.length > 0) return;
      const marker = await readFile(join(this.registry, MARKER), 'utf8').catch(() => undefined);
      if (marker === undefined) return;
      await writeFile(SYSCTL, marker.trim());
      await rm(join(this.registry, MARKER), { force: true });
    });
  }

  async holders(): Promise<string[]> {
    const files = await readdir(this.registry).catch(() => [] as string[]);
    return Promise.all(files.filter((f) => f.startsWith('holder-')).map(async (f) => (await readFile(join(this.registry, f), 'utf8')).trim()));
  }

  /** A lock file created with O_EXCL holding the owner's pid; a dead owner's lock is broken. */
  private async locked<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.registry, { recursive: true, mode: 0o700 });
    const lock = join(this.registry, LOCK);
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lock, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(await readFile(lock, 'utf8').catch(() => ''));
        if (owner > 0 && !(await alive(owner))) await rm(lock, { force: true });
        else if (attempt > 500) throw new Error(`${lock} is held by pid ${owner} for too long`);
        else await sleep(10);
      }
    }
    try {
      return await work();
    } finally {
      await rm(lock, { force: true });
    }
  }
}

function holderFile(holder: string): string {
  return `holder-${createHash('sha256').update(holder).digest('hex').slice(0, 24)}`;
}

async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // A zombie has exited: it holds nothing.
  return stat !== undefined && !/^\d+ \(.*\) Z /s.test(stat);
}
