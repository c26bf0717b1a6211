import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildRecipeRootfs, loadRecipe } from '../../libs/images/src/recipes/recipe-builder.js';

const run = promisify(execFile);

/** images/debian-12, from dist/test/support/ (three levels below the repository). */
const RECIPE = fileURLToPath(new URL('../../../images/debian-12', import.meta.url));

/**
 * The debian-12 recipe's tree (systemd, dbus, iproute2, procps, networkd), built with debootstrap
 * on first use and cached: /var/cache/berth/rootfs/<sha256 of the recipe>/. Concurrent callers
 * wait for one build. Never boot it directly: containers write to their root; use `copyRootfs`.
 */
export async function ensureRootfs(): Promise<string> {
  return (await buildRecipeRootfs(await loadRecipe(RECIPE))).rootfs;
}

/** A private copy of the cached rootfs at `dest` (reflinked where the filesystem can). */
export async function copyRootfs(dest: string): Promise<string> {
  const source = await ensureRootfs();
  await run('cp', ['-a', '--reflink=auto', `${source}/.`, dest]);
  return dest;
}
