import { fileURLToPath } from 'node:url';
import { loadRecipe } from '../../libs/images/src/recipes/recipe-builder.js';
import { packRecipeImage } from '../../libs/images/src/recipes/recipe-image.js';

const RECIPE = fileURLToPath(new URL('../../../images/debian-12', import.meta.url));

/**
 * The debian-12 recipe as a unified LXD image tarball, exactly as `berth image build` makes it
 * (built and packed once, then cached under /var/cache/berth).
 */
export async function ensureDebianImage(): Promise<string> {
  return packRecipeImage(await loadRecipe(RECIPE));
}

/** Another recipe of images/ (`busybox`, `debian-12-sysvinit`) as a unified image tarball, built and cached the same way. */
export async function ensureRecipeImage(name: string): Promise<string> {
  return packRecipeImage(await loadRecipe(fileURLToPath(new URL(`../../../images/${name}`, import.meta.url))));
}
