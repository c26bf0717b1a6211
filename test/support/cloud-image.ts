import { fileURLToPath } from 'node:url';
import { loadRecipe } from '../../libs/images/src/recipes/recipe-builder.js';
import { packRecipeImage } from '../../libs/images/src/recipes/recipe-image.js';

const RECIPE = fileURLToPath(new URL('../../../images/debian-12-cloud', import.meta.url));

/** The debian-12-cloud recipe (debian-12 with cloud-init) as a unified LXD image tarball, built once and cached. */
export async function ensureCloudImage(): Promise<string> {
  return packRecipeImage(await loadRecipe(RECIPE));
}
