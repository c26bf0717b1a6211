// What `berth image build` sends berthd: the recipe's directory and the directories of the recipes
// it is based on (`source: {recipe: ../debian-12}`), as one plain tar whose names are the files'
// absolute paths without the leading `/`. berthd reads the tar as the recipes' `/`, so relative and
// absolute `source.recipe` paths lead where they lead here, and its messages name these paths.
import { createReadStream } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { parse as parseYaml } from 'yaml';

const RECIPE_FILE = 'recipe.yaml';

export type RecipeEntry = { type: 'directory'; path: string } | { type: 'file'; path: string; size: number };

export interface RecipeUpload {
  /** The recipe as given (its directory, or its file), absolute: what berthd builds. */
  recipe: string;
  /** The recipe file, absolute, as the build names it. */
  file: string;
  /** The recipe directory's name: the image's name in the build's messages. */
  name: string;
  /** Every directory and regular file of the recipes' directories, parents first, each once. */
  entries: RecipeEntry[];
}

/**
 * The recipe `recipe` (a directory holding recipe.yaml, or the file) and the chain of recipes it
 * is based on. Nothing is checked here but what finding the chain needs: a recipe that cannot be
 * read or parsed ends the chain, and berthd reports it with the file and the field.
 */
export async function recipeUpload(recipe: string): Promise<RecipeUpload> {
  const given = path.resolve(recipe);
  const entries = new Map<string, RecipeEntry>();
  const walked = new Set<string>();
  const chain: string[] = [];
  for (let current: string | undefined = given; current !== undefined; ) {
    const isDir = await isDirectory(current);
    const file = isDir ? path.join(current, RECIPE_FILE) : current;
    if (chain.includes(file)) break;
    chain.push(file);
    // A directory without its recipe file is sent empty, so that berthd says what it lacks.
    if (isDir && current !== '/') entries.set(current, { type: 'directory', path: current });
    if (!(await isFile(file))) break;
    await collect(path.dirname(file), entries, walked);
    current = await baseRecipe(file);
  }
  const file = chain[0]!;
  return { recipe: given, file, name: path.basename(path.dirname(file)), entries: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/** The entries as a tar stream (uncompressed; names without the leading `/`). */
export function recipeTar(entries: readonly RecipeEntry[]): Readable {
  const tar = pack();
  (async () => {
    for (const entry of entries) {
      const name = entry.path.slice(1);
      if (entry.type === 'directory') {
        await new Promise<void>((resolve, reject) => tar.entry({ name, type: 'directory', mode: 0o755 }, (err) => (err ? reject(err) : resolve())));
      } else {
        await pipeline(createReadStream(entry.path), tar.entry({ name, type: 'file', mode: 0o644, size: entry.size }));
      }
    }
    tar.finalize();
  })().catch((err: unknown) => tar.destroy(err as Error));
  return Readable.from(tar);
}

/** `source.recipe` of a recipe file, resolved as the builder resolves it; undefined when there is none. */
async function baseRecipe(file: string): Promise<string | undefined> {
  let document: unknown;
  try {
    document = parseYaml(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const source = (document as { source?: { recipe?: unknown } } | null)?.source;
  const base = typeof source === 'object' && source !== null ? source.recipe : undefined;
  return typeof base === 'string' && base !== '' ? path.resolve(path.dirname(file), base) : undefined;
}

/**
 * A directory and everything under it, symlinks followed (the builder reads through them too);
 * a directory reached twice through links is walked once, other kinds of files are left out.
 */
async function collect(dir: string, entries: Map<string, RecipeEntry>, walked: Set<string>): Promise<void> {
  const real = await realpath(dir).catch(() => undefined);
  if (real === undefined || walked.has(real)) return;
  walked.add(real);
  if (dir !== '/') entries.set(dir, { type: 'directory', path: dir });
  for (const name of await readdir(dir)) {
    const child = path.join(dir, name);
    const info = await stat(child).catch(() => undefined);
    if (info?.isDirectory()) await collect(child, entries, walked);
    else if (info?.isFile()) entries.set(child, { type: 'file', path: child, size: info.size });
  }
}

async function isDirectory(file: string): Promise<boolean> {
  return stat(file).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (info) => info.isFile(),
    () => false,
  );
}
