import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { arch } from 'node:os';
import path from 'node:path';
import { GuestRoot } from '#runtime';
import { InvalidRecipeError, RecipeBuildError } from '../domain/image.errors.js';
import { debianMirror } from './debian-mirror.js';
import { parseRecipe, RECIPE_FILE, type Recipe, type RecipeFile } from './recipe.js';

/** Part of every cache key: bump it when a step's behaviour changes, so old trees are not reused. */
const BUILDER_VERSION = 'berth-recipe-builder/2';

/** Where built trees are kept: `<cache>/<key>/`, the key a sha256 over everything the tree depends on. */
export const DEFAULT_ROOTFS_CACHE = process.env.BERTH_ROOTFS_CACHE ?? '/var/cache/berth/rootfs';

export interface BuildRecipeOptions {
  cacheDir?: string;
  /** Progress and the steps' output, one line at a time. */
  log?: (line: string) => void;
  /** Where berth_native.node is (default: the build's). */
  nativeDir?: string;
}

export interface BuiltRootfs {
  /** The finished tree; shared and read-only: copy it before changing anything. */
  rootfs: string;
  /** The cache key (sha256) of the tree. */
  key: string;
  /** True when the tree was already in the cache. */
  cached: boolean;
}

/**
 * Reads `<dir>/recipe.yaml` (or the file itself when given one). `root` is what an absolute
 * `source.recipe` is read under, and what no base recipe may lie outside (see Recipe.root).
 */
export async function loadRecipe(dirOrFile: string, root = '/'): Promise<Recipe> {
  const resolved = path.resolve(dirOrFile);
  const isDir = await stat(resolved).then((s) => s.isDirectory(), () => false);
  const file = isDir ? path.join(resolved, RECIPE_FILE) : resolved;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InvalidRecipeError(file, '(file)', isDir ? `${dirOrFile} is not an image recipe (no ${RECIPE_FILE})` : 'cannot be read');
  }
  return parseRecipe(text, file, root);
}

/**
 * The recipe's chain from the first tree built by debootstrap down to the recipe itself. A cycle
 * (a recipe based, through others, on itself) is an error naming the recipe that closes it.
 */
export async function lineage(recipe: Recipe): Promise<Recipe[]> {
  const chain = [recipe];
  for (let current = recipe; current.source.kind === 'recipe'; ) {
    const base = await loadRecipe(current.source.recipe, current.root);
    if (chain.some((r) => r.dir === base.dir)) throw new InvalidRecipeError(current.file, 'source.recipe', `${base.dir} is based on this recipe: a cycle`);
    chain.unshift(base);
    current = base;
  }
  return chain;
}

/**
 * The cache key of a recipe's tree: everything the build reads (the steps, the contents of the
 * `source` files, the base recipe's key, the architecture, this builder's version) and nothing
 * that only goes into metadata.yaml. The same recipe gives the same key on any machine.
 */
export async function recipeRootfsKey(recipe: Recipe): Promise<string> {
  let key = '';
  for (const step of await lineage(recipe)) key = await ownKey(step, key);
  return key;
}

async function ownKey(recipe: Recipe, baseKey: string): Promise<string> {
  const files = await Promise.all(
    recipe.files.map(async (file) => {
      if (file.kind !== 'source') return file;
      const { source, ...rest } = file;
      const bytes = await readSource(recipe, file);
      return { ...rest, sha256: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
  const source = recipe.source.kind === 'recipe' ? { kind: 'recipe', key: baseKey } : recipe.source;
  const input = { builder: BUILDER_VERSION, architecture: arch(), source, packages: recipe.packages, files, units: recipe.units, commands: recipe.commands };
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

async function readSource(recipe: Recipe, file: Extract<RecipeFile, { kind: 'source' }>): Promise<Buffer> {
  try {
    return await readFile(file.source);
  } catch (error) {
    const index = recipe.files.indexOf(file);
    throw new InvalidRecipeError(recipe.file, `files[${index}].source`, `${path.relative(recipe.dir, file.source)}: ${(error as Error).message}`);
  }
}

/**
 * The recipe's root filesystem, built on first use and cached by its key. A build runs in a
 * fresh directory beside the cache entry and is renamed into place only when every step
 * succeeded, so an interrupted build never looks finished; builds of one key are serialised by
 * a lock (the second caller finds the finished tree). A recipe based on another builds that one
 * first (cached too) and starts from a copy of it.
 */
export async function buildRecipeRootfs(recipe: Recipe, options: BuildRecipeOptions = {}): Promise<BuiltRootfs> {
  const cacheDir = options.cacheDir ?? DEFAULT_ROOTFS_CACHE;
  const log = options.log ?? (() => undefined);
  const chain = await lineage(recipe);
  let base: BuiltRootfs | undefined;
  for (const step of chain) {
    const key = await ownKey(step, base?.key ?? '');
    base = await cachedTree(cacheDir, key, log, (result) => new TreeBuild(step, key, result, base?.rootfs, log, options.nativeDir).run());
  }
  return base!;
}

async function cachedTree(cacheDir: string, key: string, log: (line: string) => void, build: (work: string) => Promise<void>): Promise<BuiltRootfs> {
  const { path: rootfs, cached } = await cachedDirectory(cacheDir, key, build);
  if (!cached) log(`built ${rootfs}`);
  return { rootfs, key, cached };
}

/**
 * `<cacheDir>/<key>`, made by `build` the first time. `build(result)` must create the directory
 * `result`: a path in a fresh build directory beside the cache entry, renamed into place only
 * when `build` succeeded, so an interrupted build never looks finished (the next caller removes
 * what it left). Callers of one key are serialised by a lock; the second finds the entry made.
 */
export async function cachedDirectory(cacheDir: string, key: string, build: (result: string) => Promise<void>): Promise<{ path: string; cached: boolean }> {
  if (!/^[0-9a-f]{16,128}$/.test(key)) throw new Error(`cache key ${JSON.stringify(key)} is not a hex digest`);
  const target = path.join(cacheDir, key);
  if (existsSync(target)) return { path: target, cached: true };
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  return withLock(path.join(cacheDir, `.${key}.lock`), async () => {
    if (existsSync(target)) return { path: target, cached: true };
    for (const stale of (await readdir(cacheDir)).filter((name) => name.startsWith(`.build-${key}.`))) {
      await discard(path.join(cacheDir, stale));
    }
    const work = path.join(cacheDir, `.build-${key}.${randomBytes(4).toString('hex')}`);
    await mkdir(work, { mode: 0o700 });
    try {
      await build(path.join(work, 'result'));
      await rename(path.join(work, 'result'), target);
    } finally {
      await discard(work);
    }
    return { path: target, cached: false };
  });
}

/**
 * Runs `fn` holding an exclusive flock(2) on `file`. The lock is held by a `flock` child that
 * waits on its stdin: if this process dies, the pipe closes, the child exits and the kernel
 * releases the lock, so a killed build never leaves a stale lock behind.
 */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const holder = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked && exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(holder, 'exit');
  let output = '';
  await new Promise<void>((resolve, reject) => {
    holder.on('error', reject);
    holder.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('locked\n')) resolve();
    });
    void exited.then(([code]) => reject(new Error(`flock ${file} exited with ${String(code)} before locking`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await exited.catch(() => undefined);
  }
}

/** Removes a build directory. Nothing can be mounted in it: every chroot step had its own mount namespace. */
async function discard(dir: string): Promise<void> {
  await run('rm', ['-rf', '--one-file-system', dir], () => undefined);
}

/**
 * Runs a program, its output sent to `log` line by line; rejects with its last lines when it
 * fails, the program called `name` in the message.
 */
function run(command: string, args: readonly string[], log: (line: string) => void, name = path.basename(command)): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        log(line);
        tail.push(line);
        if (tail.length > 8) tail.shift();
      }
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name} ${signal !== null ? `was killed by ${signal}` : `exited with status ${String(code)}`}${tail.length > 0 ? `: ${tail.join(' | ')}` : ''}`));
    });
  });
}

/**
 * The shell run as PID 1 of a new PID and mount namespace (unshare) for each chroot step. It
 * mounts /proc for that namespace, a minimal /dev (tmpfs with the host's null, zero, full,
 * random, urandom and tty bound in, as systemd-nspawn gives a container) and fresh tmpfs on /run
 * and /tmp, so nothing a step leaves there ends up in the image and the tree's own /dev is never
 * written; every mount vanishes with the namespace, and every process the step started (a
 * daemon a package script left running) is killed when the step ends.
 */
const CHROOT_STEP = `set -eu
root=$1
shift
mount --make-rprivate /
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,noexec,mode=0755 tmpfs "$root/dev"
for node in null zero full random urandom tty; do
	: >"$root/dev/$node"
	mount --bind "/dev/$node" "$root/dev/$node"
done
mkdir -m 1777 "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$root/run"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/tmp"
exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true HOME=/root "$@"`;

/** The policy-rc.d that keeps package scripts from starting services during a build. */
const POLICY_RC_D = '#!/bin/sh\n# Written by a Berth image build while packages are installed: no service starts.\nexit 101\n';

class TreeBuild {
  private readonly guest: GuestRoot;

  constructor(
    private readonly recipe: Recipe,
    private readonly key: string,
    /** Where the tree is made (it does not exist yet). */
    private readonly root: string,
    private readonly base: string | undefined,
    private readonly log: (line: string) => void,
    nativeDir: string | undefined,
  ) {
    this.guest = new GuestRoot(this.root, nativeDir === undefined ? {} : { nativeDir });
  }

  async run(): Promise<void> {
    const { recipe } = this;
    await this.step('source', () => this.source());
    if (recipe.packages.length > 0) {
      await this.step('packages', () =>
        this.chroot(['sh', '-euc', 'apt-get update -q && apt-get install -q -y --no-install-recommends "$@"', 'apt', ...recipe.packages], { installing: true }),
      );
    }
    for (const [index, file] of recipe.files.entries()) await this.step(`files[${index}] (${file.path})`, () => this.file(file));
    if (recipe.units.enable.length > 0) await this.step('units.enable', () => this.chroot(['systemctl', 'enable', ...recipe.units.enable]));
    if (recipe.units.mask.length > 0) await this.step('units.mask', () => this.chroot(['systemctl', 'mask', ...recipe.units.mask]));
    for (const [index, command] of recipe.commands.entries()) {
      await this.step(`commands[${index}]`, () => this.chroot(['/bin/sh', '-euc', command], { installing: true }));
    }
    await this.step('cleanup', async () => {
      await this.chroot(['sh', '-c', 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin']);
      await this.guest.writeFile('/etc/berth-recipe', `${recipe.name} ${this.key}\n`, { mode: 0o644, uid: 0, gid: 0 });
    });
  }

  private async step(name: string, fn: () => Promise<void>): Promise<void> {
    this.log(`[${this.recipe.name}] ${name}`);
    try {
      await fn();
    } catch (error) {
      if (error instanceof RecipeBuildError || error instanceof InvalidRecipeError) throw error;
      throw new RecipeBuildError(this.recipe.file, name, error instanceof Error ? error.message : String(error));
    }
  }

  private async source(): Promise<void> {
    const { source } = this.recipe;
    if (source.kind === 'recipe') {
      await run('cp', ['-a', '--reflink=auto', this.base!, this.root], this.log);
      return;
    }
    const mirror = await debianMirror();
    this.log(`debootstrap --variant=${source.variant} ${source.suite} from ${mirror}`);
    await run('debootstrap', [`--variant=${source.variant}`, source.suite, this.root, mirror], this.log);
  }

  /**
   * Runs a program chrooted into the tree (see CHROOT_STEP). With `installing`, services are kept
   * from starting (policy-rc.d) and the tree gets the host's resolv.conf for the step's length,
   * so apt reaches the mirror even when the image's resolv.conf is a link to systemd-resolved.
   */
  private async chroot(command: readonly string[], options: { installing?: boolean } = {}): Promise<void> {
    const restore: (() => Promise<void>)[] = [];
    try {
      if (options.installing) {
        restore.push(await this.replaceFor('/usr/sbin/policy-rc.d', POLICY_RC_D, 0o755));
        restore.push(await this.replaceFor('/etc/resolv.conf', await readFile('/etc/resolv.conf', 'utf8'), 0o644));
      }
      await run('unshare', ['--mount', '--pid', '--fork', '--kill-child', '--', 'sh', '-c', CHROOT_STEP, 'chroot-step', this.root, ...command], this.log, path.basename(command[0]!));
    } finally {
      for (const undo of restore.reverse()) await undo();
    }
  }

  /**
   * Puts `content` at `guestPath` and returns how to put back what was there (a file, a link or
   * nothing), unless the step replaced it in the meantime: then the step's version stays.
   */
  private async replaceFor(guestPath: string, content: string, mode: number): Promise<() => Promise<void>> {
    const before = await this.guest.lstatIfExists(guestPath);
    const link = before?.type === 'symlink' ? await this.guest.readlink(guestPath) : undefined;
    const data = before?.type === 'file' ? await this.guest.readFile(guestPath) : undefined;
    await this.guest.writeFile(guestPath, content, { mode, uid: 0, gid: 0 });
    return async () => {
      const now = await this.guest.lstatIfExists(guestPath);
      if (now?.type !== 'file' || (await this.guest.readText(guestPath)) !== content) return;
      await this.guest.unlink(guestPath);
      if (link !== undefined) await this.guest.symlink(link, guestPath);
      else if (data !== undefined && before !== null) await this.guest.writeFile(guestPath, data, { mode: before.mode, uid: before.uid, gid: before.gid });
    };
  }

  /** One `files` entry, every path resolved inside the tree's root (openat2 RESOLVE_IN_ROOT). */
  private async file(file: RecipeFile): Promise<void> {
    const existing = await this.guest.lstatIfExists(file.path);
    if (file.kind === 'absent') {
      if (existing === null) return;
      if (existing.type === 'directory') await this.guest.rmdir(file.path);
      else await this.guest.unlink(file.path);
      return;
    }
    await this.guest.mkdir(path.posix.dirname(file.path), { recursive: true });
    if (existing !== null && existing.type === 'directory') throw new Error(`${file.path} is a directory in the tree`);
    if (file.kind === 'symlink') {
      if (existing !== null) await this.guest.unlink(file.path);
      await this.guest.symlink(file.target, file.path);
      return;
    }
    const data = file.kind === 'content' ? file.content : await readSource(this.recipe, file);
    await this.guest.writeFile(file.path, data, { mode: file.mode, uid: file.uid, gid: file.gid });
  }
}
