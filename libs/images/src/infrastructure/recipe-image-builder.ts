import { Injectable } from '@nestjs/common';
import { loadRecipe } from '../recipes/recipe-builder.js';
import { checkRecipe, packRecipeImage } from '../recipes/recipe-image.js';
import type { Recipe } from '../recipes/recipe.js';

/**
 * Recipes to images for berthd: the recipe read and checked before any work starts, then its
 * tree built (debootstrap, chroot steps in helper processes with their own PID and mount
 * namespaces) and packed as a unified image, both cached under /var/cache/berth by content.
 */
@Injectable()
export class RecipeImageBuilder {
  /** The recipe file at `file`, its bases read under `root` (see Recipe.root), checked with checkRecipe. */
  async load(file: string, root: string): Promise<Recipe> {
    const recipe = await loadRecipe(file, root);
    await checkRecipe(recipe);
    return recipe;
  }

  /** The path of the packed image tarball; `log` gets each line of progress and of the steps' output. */
  pack(recipe: Recipe, log: (line: string) => void): Promise<string> {
    return packRecipeImage(recipe, { log });
  }
}
