import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { arch } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { InvalidRecipeError } from '../domain/image.errors.js';
import type { ImageTemplate } from '../domain/image-metadata.js';
import { buildRecipeRootfs, lineage, recipeRootfsKey, type BuildRecipeOptions } from './recipe-builder.js';
import type { Recipe } from './recipe.js';

const exec = promisify(execFile);

/** Where packed images are kept: `<cache>/<recipe name>-<key>.tar`. */
export const DEFAULT_IMAGE_CACHE = process.env.BERTH_IMAGE_CACHE ?? '/var/cache/berth/images';

/* Node's names for the kernel's (LXD's metadata uses the kernel's). */
const ARCHITECTURES: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export interface PackRecipeOptions extends BuildRecipeOptions {
  imageCacheDir?: string;
}

/** A template of the image and the file that holds it (in the recipe that declares it). */
interface TemplateSource {
  template: ImageTemplate;
  file: string;
}

/**
 * The recipe as a unified LXD image tarball (uncompressed: `metadata.yaml`, `templates/`,
 * `rootfs/`), packed from its built tree and cached, so the same recipe always gives the same
 * tarball and so the same fingerprint. Templates and properties are inherited from the recipes
 * it is based on; the recipe's own win for the same path or key.
 */
export async function packRecipeImage(recipe: Recipe, options: PackRecipeOptions = {}): Promise<string> {
  const log = options.log ?? (() => undefined);
  const built = await buildRecipeRootfs(recipe, options);
  const chain = await lineage(recipe);
  const properties: Record<string, string> = Object.assign({}, ...chain.map((r) => r.properties), { description: recipe.description });
  const templates = templateSources(chain);

  const hash = createHash('sha256').update(`${built.key}\0${JSON.stringify(properties)}`);
  for (const { template, file } of templates) hash.update(`\0${JSON.stringify(template)}\0`).update(await readFile(file));
  const cacheDir = options.imageCacheDir ?? DEFAULT_IMAGE_CACHE;
  const tarball = path.join(cacheDir, `${recipe.name}-${hash.digest('hex').slice(0, 16)}.tar`);
  if (existsSync(tarball)) return tarball;

  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(path.join(cacheDir, '.pack-'));
  try {
    const metadata = {
      architecture: ARCHITECTURES[arch()] ?? arch(),
      creation_date: Math.floor(Date.now() / 1000),
      properties,
      ...(templates.length === 0
        ? {}
        : {
            templates: Object.fromEntries(
              templates.map(({ template: t }) => [t.path, { when: t.when, template: t.template, create_only: t.createOnly, properties: t.properties }]),
            ),
          }),
    };
    await writeFile(path.join(work, 'metadata.yaml'), stringify(metadata));
    await mkdir(path.join(work, 'templates'));
    for (const { template, file } of templates) await writeFile(path.join(work, 'templates', template.template), await readFile(file));
    log(`packing ${built.rootfs} into ${tarball}`);
    const parts = templates.length === 0 ? ['metadata.yaml'] : ['metadata.yaml', 'templates'];
    await exec(
      'tar',
      ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-cf', path.join(work, 'image.tar'), '-C', work, ...parts, '--transform', 's,^\\.,rootfs,S', '-C', built.rootfs, '.'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await rename(path.join(work, 'image.tar'), tarball);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return tarball;
}

/**
 * Everything about a recipe that can be wrong before anything is built: the recipes it is based
 * on (readable, no cycle), every `source` file readable, every template file present. Throws
 * InvalidRecipeError naming the file and the field.
 */
export async function checkRecipe(recipe: Recipe): Promise<void> {
  await recipeRootfsKey(recipe);
  templateSources(await lineage(recipe));
}

/**
 * The templates of a recipe and of those it is based on, nearest first for each path. Two
 * different files under the same template name cannot both go into templates/: an error.
 */
function templateSources(chain: readonly Recipe[]): TemplateSource[] {
  const byPath = new Map<string, TemplateSource>();
  for (const recipe of chain) {
    for (const template of recipe.templates) {
      byPath.set(template.path, { template, file: path.join(recipe.dir, 'templates', template.template) });
    }
  }
  const byName = new Map<string, string>();
  for (const { template, file } of byPath.values()) {
    const other = byName.get(template.template);
    if (other !== undefined && other !== file) {
      throw new InvalidRecipeError(chain[chain.length - 1]!.file, `templates[${JSON.stringify(template.path)}].template`, `${template.template} names both ${other} and ${file}`);
    }
    if (!existsSync(file)) throw new InvalidRecipeError(chain[chain.length - 1]!.file, `templates[${JSON.stringify(template.path)}].template`, `${file} is missing`);
    byName.set(template.template, file);
  }
  return [...byPath.values()];
}
