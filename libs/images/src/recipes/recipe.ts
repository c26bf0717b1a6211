import path from 'node:path';
import { parseDocument } from 'yaml';
import { InvalidImageMetadataError, InvalidRecipeError } from '../domain/image.errors.js';
import { parseImageTemplates, type ImageTemplate } from '../domain/image-metadata.js';

/**
 * An image recipe: the declarative file (`recipe.yaml`) from which `berth image build` makes a
 * Debian root filesystem and then an LXD unified image. The steps always run in this order:
 *
 *   1. source     debootstrap of `suite` (a fresh tree), or a copy of another recipe's tree
 *   2. packages   apt-get install --no-install-recommends, in a chroot, no service started
 *   3. files      written, linked or removed inside the tree (paths resolved in its root)
 *   4. units      systemctl enable, then systemctl mask
 *   5. commands   each one `/bin/sh -eu -c`, in a chroot
 *   6. cleanup    apt's package cache and lists emptied
 *
 * `description`, `properties` and `templates` go only into the image's metadata.yaml.
 */
export interface Recipe {
  /** The recipe directory's name (`debian-12`): the image's default name. */
  readonly name: string;
  /** Absolute directory of the recipe: `source` files and templates are relative to it. */
  readonly dir: string;
  /** Absolute path of the recipe file, for messages. */
  readonly file: string;
  /**
   * The directory `/` stands for in `source.recipe`, which no base recipe may lie outside: the
   * host's root for a recipe read where it was written, the extracted tree of an uploaded one.
   */
  readonly root: string;
  readonly description: string;
  /** metadata.yaml `properties` (os, release, variant...), besides `description`. */
  readonly properties: Readonly<Record<string, string>>;
  readonly source: RecipeSource;
  readonly packages: readonly string[];
  readonly files: readonly RecipeFile[];
  readonly units: { readonly enable: readonly string[]; readonly mask: readonly string[] };
  readonly commands: readonly string[];
  /** metadata.yaml `templates`, their files under `<dir>/templates/`. */
  readonly templates: readonly ImageTemplate[];
}

export type RecipeSource =
  /** debootstrap `--variant=<variant> <suite>` from the host's Debian mirror. */
  | { readonly kind: 'debootstrap'; readonly suite: string; readonly variant: DebootstrapVariant }
  /** A copy of the tree another recipe builds (its absolute directory, inside the recipe's root). */
  | { readonly kind: 'recipe'; readonly recipe: string };

export type DebootstrapVariant = 'minbase' | 'buildd';

/** What happens to one path of the tree. Owners are numeric, as the tree's /etc/passwd says. */
export type RecipeFile =
  | { readonly kind: 'content'; readonly path: string; readonly content: string; readonly mode: number; readonly uid: number; readonly gid: number }
  | { readonly kind: 'source'; readonly path: string; readonly source: string; readonly mode: number; readonly uid: number; readonly gid: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'absent'; readonly path: string };

/** The name of the file a recipe directory holds. */
export const RECIPE_FILE = 'recipe.yaml';

const TOP_LEVEL = new Set(['description', 'properties', 'source', 'packages', 'files', 'units', 'commands', 'templates']);
const SUITE = /^[a-z][a-z0-9-]{1,31}$/;
const VARIANTS = new Set<string>(['minbase', 'buildd']);
/* Debian policy 5.6.1: lower case letters, digits, + - and ., at least two, a letter or digit first. */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
/* systemd.unit(5) names, including templates' instances (getty@tty1.service). */
const UNIT = /^[A-Za-z0-9:_.\\@-]+\.(service|socket|timer|target|mount|automount|path|swap|slice)$/;
const MODE = /^0?[0-7]{3,4}$/;
const ID = /^(0|[1-9][0-9]{0,9})$/;

/**
 * Parses and validates a recipe file. Every scalar is read as text (YAML's failsafe schema), so
 * `mode: 0755` stays the octal text it looks like; unknown keys are errors, so a misspelt key
 * never silently builds something else. Paths are checked here; files are read by the builder.
 * Errors name the field: `files[2].mode: must be an octal mode such as 0644`. `root` is what an
 * absolute `source.recipe` is read under (see Recipe.root).
 */
export function parseRecipe(text: string, file: string, root = '/'): Recipe {
  const fail = (field: string, reason: string): never => {
    throw new InvalidRecipeError(file, field, reason);
  };
  const document = parseDocument(text, { schema: 'failsafe', uniqueKeys: true });
  if (document.errors.length > 0) fail('(document)', document.errors[0].message.split('\n')[0]);
  let top: unknown;
  try {
    top = document.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (error) {
    fail('(document)', error instanceof Error ? error.message : String(error));
  }
  const fields = mapping(top, '(document)', fail);
  for (const key of fields.keys()) if (!TOP_LEVEL.has(key)) fail(key, `unknown key (expected one of ${[...TOP_LEVEL].join(', ')})`);

  const dir = path.dirname(path.resolve(file));
  const description = scalar(fields.get('description'), 'description', fail) ?? fail('description', 'is required');
  const properties = stringMap(fields.get('properties'), 'properties', fail);
  if ('description' in properties) fail('properties.description', 'comes from the top-level description');

  let templates: ImageTemplate[] = [];
  try {
    templates = parseImageTemplates(fields.get('templates'));
  } catch (error) {
    if (!(error instanceof InvalidImageMetadataError)) throw error;
    fail(error.field, error.message.replace(/^Invalid metadata\.yaml field [^:]*: /, ''));
  }

  return {
    name: path.basename(dir),
    dir,
    file: path.resolve(file),
    root,
    description,
    properties,
    source: source(fields.get('source'), dir, root, fail),
    packages: list(fields.get('packages'), 'packages', fail).map((name, i) =>
      PACKAGE.test(name) ? name : fail(`packages[${i}]`, `${JSON.stringify(name)} is not a Debian package name`),
    ),
    files: files(fields.get('files'), dir, fail),
    units: units(fields.get('units'), fail),
    commands: list(fields.get('commands'), 'commands', fail).map((command, i) =>
      command.trim() === '' ? fail(`commands[${i}]`, 'is empty') : command,
    ),
    templates,
  };
}

type Fail = (field: string, reason: string) => never;

function mapping(value: unknown, field: string, fail: Fail): Map<string, unknown> {
  if (!(value instanceof Map)) return fail(field, 'must be a mapping');
  for (const key of value.keys()) if (typeof key !== 'string') fail(field, 'keys must be strings');
  return value as Map<string, unknown>;
}

function checkKeys(entry: Map<string, unknown>, allowed: readonly string[], field: string, fail: Fail): void {
  for (const key of entry.keys()) if (!allowed.includes(key)) fail(`${field}.${key}`, `unknown key (expected one of ${allowed.join(', ')})`);
}

/** A scalar, or undefined when absent. `key:` (YAML's null) is the empty string. */
function scalar(value: unknown, field: string, fail: Fail): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return fail(field, 'must be a scalar');
  return value;
}

function list(value: unknown, field: string, fail: Fail): string[] {
  if (value === undefined || value === '') return [];
  if (!Array.isArray(value)) return fail(field, 'must be a list');
  return value.map((item, i) => (typeof item === 'string' ? item : fail(`${field}[${i}]`, 'must be a scalar')));
}

function stringMap(value: unknown, field: string, fail: Fail): Record<string, string> {
  if (value === undefined || value === '') return {};
  const entries: [string, string][] = [];
  for (const [key, item] of mapping(value, field, fail)) {
    entries.push([key, scalar(item, `${field}.${key}`, fail) ?? '']);
  }
  return Object.fromEntries(entries);
}

function source(value: unknown, dir: string, root: string, fail: Fail): RecipeSource {
  if (value === undefined) return fail('source', 'is required: a debootstrap suite or another recipe');
  const entry = mapping(value, 'source', fail);
  checkKeys(entry, ['suite', 'variant', 'recipe'], 'source', fail);
  const recipe = scalar(entry.get('recipe'), 'source.recipe', fail);
  const suite = scalar(entry.get('suite'), 'source.suite', fail);
  if (recipe !== undefined) {
    if (suite !== undefined || entry.has('variant')) fail('source', 'takes either recipe or suite (with variant), not both');
    if (recipe === '' || recipe.includes('\0')) fail('source.recipe', 'must name a recipe directory');
    const base = path.isAbsolute(recipe) ? path.join(root, recipe) : path.resolve(dir, recipe);
    if (path.relative(root, base).split(path.sep)[0] === '..') fail('source.recipe', `${recipe} leads outside the recipe tree`);
    if (base === dir) fail('source.recipe', 'cannot be the recipe itself');
    return { kind: 'recipe', recipe: base };
  }
  if (suite === undefined) return fail('source', 'needs suite (a Debian suite such as bookworm) or recipe');
  if (!SUITE.test(suite)) fail('source.suite', `${JSON.stringify(suite)} is not a Debian suite name`);
  const variant = scalar(entry.get('variant'), 'source.variant', fail) ?? 'minbase';
  if (!VARIANTS.has(variant)) fail('source.variant', 'must be minbase or buildd');
  return { kind: 'debootstrap', suite, variant: variant as DebootstrapVariant };
}

/** A normalised absolute path inside the tree, not the root itself: no `.`, `..` or `//`. */
function treePath(value: string | undefined, field: string, fail: Fail): string {
  if (value === undefined) return fail(field, 'is required');
  const parts = value.split('/');
  if (!value.startsWith('/') || value === '/' || value.includes('\0') || parts.slice(1).some((p) => p === '' || p === '.' || p === '..')) {
    return fail(field, `${JSON.stringify(value)} must be an absolute path such as /etc/motd, without ., .. or //`);
  }
  return value;
}

function files(value: unknown, dir: string, fail: Fail): RecipeFile[] {
  if (value === undefined || value === '') return [];
  if (!Array.isArray(value)) return fail('files', 'must be a list');
  const seen = new Set<string>();
  return value.map((item, i): RecipeFile => {
    const field = `files[${i}]`;
    const entry = mapping(item, field, fail);
    checkKeys(entry, ['path', 'content', 'source', 'symlink', 'absent', 'mode', 'uid', 'gid'], field, fail);
    const filePath = treePath(scalar(entry.get('path'), `${field}.path`, fail), `${field}.path`, fail);
    if (seen.has(filePath)) fail(`${field}.path`, `${filePath} is already listed`);
    seen.add(filePath);
    const kinds = ['content', 'source', 'symlink', 'absent'].filter((k) => entry.has(k));
    if (kinds.length !== 1) fail(field, 'needs exactly one of content, source, symlink or absent');
    const kind = kinds[0] as RecipeFile['kind'];
    if (kind === 'symlink' || kind === 'absent') {
      for (const key of ['mode', 'uid', 'gid']) if (entry.has(key)) fail(`${field}.${key}`, `does not apply to ${kind}`);
    }
    if (kind === 'absent') {
      if (scalar(entry.get('absent'), `${field}.absent`, fail) !== 'true') fail(`${field}.absent`, 'must be true');
      return { kind, path: filePath };
    }
    if (kind === 'symlink') {
      const target = scalar(entry.get('symlink'), `${field}.symlink`, fail) ?? '';
      if (target === '' || target.includes('\0')) fail(`${field}.symlink`, 'must be a link target');
      return { kind, path: filePath, target };
    }
    const modeText = scalar(entry.get('mode'), `${field}.mode`, fail) ?? '0644';
    if (!MODE.test(modeText)) fail(`${field}.mode`, `${JSON.stringify(modeText)} must be an octal mode such as 0644`);
    const id = (key: 'uid' | 'gid'): number => {
      const text = scalar(entry.get(key), `${field}.${key}`, fail) ?? '0';
      if (!ID.test(text) || Number(text) > 0xfffffffe) fail(`${field}.${key}`, `${JSON.stringify(text)} must be a numeric id`);
      return Number(text);
    };
    const owned = { path: filePath, mode: parseInt(modeText, 8), uid: id('uid'), gid: id('gid') };
    if (kind === 'content') return { kind, ...owned, content: scalar(entry.get('content'), `${field}.content`, fail) ?? '' };
    const relative = scalar(entry.get('source'), `${field}.source`, fail) ?? '';
    if (relative === '' || relative.startsWith('/') || relative.includes('\0') || relative.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      fail(`${field}.source`, `${JSON.stringify(relative)} must be a path inside the recipe directory, such as app/index.php`);
    }
    return { kind, ...owned, source: path.join(dir, relative) };
  });
}

function units(value: unknown, fail: Fail): Recipe['units'] {
  if (value === undefined || value === '') return { enable: [], mask: [] };
  const entry = mapping(value, 'units', fail);
  checkKeys(entry, ['enable', 'mask'], 'units', fail);
  const names = (key: 'enable' | 'mask') =>
    list(entry.get(key), `units.${key}`, fail).map((unit, i) => (UNIT.test(unit) ? unit : fail(`units.${key}[${i}]`, `${JSON.stringify(unit)} is not a systemd unit name`)));
  return { enable: names('enable'), mask: names('mask') };
}
