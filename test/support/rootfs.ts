import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** images/debian-12/build.sh, from dist/test/support/ (three levels below the repository). */
const recipe = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../images/debian-12/build.sh');

/**
 * The cached debian-12 rootfs (systemd, dbus, iproute2, procps), built with debootstrap on first
 * use: /var/cache/berth/rootfs/<sha256 of the recipe>/. Concurrent callers wait for one build.
 * Never boot it directly: containers write to their root; use `copyRootfs`.
 */
export async function ensureRootfs(): Promise<string> {
  const { stdout } = await run(recipe, [], { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60 * 1000 });
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1]!;
}

/** A private copy of the cached rootfs at `dest` (reflinked where the filesystem can). */
export async function copyRootfs(dest: string): Promise<string> {
  const source = await ensureRootfs();
  await run('cp', ['-a', '--reflink=auto', `${source}/.`, dest]);
  return dest;
}
