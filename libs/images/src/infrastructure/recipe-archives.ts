import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, type BerthConfig } from '#core';
import { resolveExtractionLimits, type ExtractionLimits } from '../domain/extraction-limits.js';
import { ArchiveLimitExceededError, UnsafeArchiveError } from '../domain/image.errors.js';
import { splitEntryName } from '../domain/image-layout-policy.js';
import { ByteBudget } from './decompression.js';
import { asNoSpaceError } from './no-space.js';
import { readTarEntries } from './tar-entries.js';

/**
 * A recipe upload holds recipe files and the few files they name: 64 MiB of tar (headers, padding
 * and data) and 10,000 entries are far more than any recipe needs, and little enough to accept from
 * anyone who may call the API.
 */
export const RECIPE_ARCHIVE_LIMITS: ExtractionLimits = resolveExtractionLimits({
  maxTotalBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
  maxPathDepth: 64,
  maxPaxHeaderBytes: 64 * 1024,
});

/** Where a recipe upload is extracted for its build. */
const TREE_PREFIX = '.recipe-';

/*
 * A new file, never through a link. O_CLOEXEC is not in fs.constants because libuv adds it to every
 * open(2): no descriptor leaks into debootstrap, apt or the chroot steps the build forks meanwhile.
 */
const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** An uploaded recipe tree, extracted into a private directory; remove() it when done. */
export interface RecipeTree {
  /** The directory the archive's names are relative to. */
  readonly root: string;
  remove(): Promise<void>;
}

/**
 * Recipe uploads (`berth image build`), treated as hostile: only regular files and directories,
 * names validated as image archives' are (relative, no `.` or `..` component, no NUL, bounded),
 * every path once, no links or devices, within RECIPE_ARCHIVE_LIMITS. The tree goes into a fresh
 * directory $BERTH_DIR/images/.recipe-<uuid> (0700); whatever fails, nothing of it is left.
 */
@Injectable()
export class RecipeArchives {
  private readonly root: string;

  constructor(@Inject(BERTH_CONFIG) config: BerthConfig) {
    this.root = join(config.BERTH_DIR, 'images');
  }

  /** Extracts a plain (uncompressed) tar stream; `body` is destroyed when the archive is refused. */
  async extract(body: Readable, limits: ExtractionLimits = RECIPE_ARCHIVE_LIMITS): Promise<RecipeTree> {
    body.on('error', () => undefined); // an early failure is read from the stream once reading starts
    const dir = join(this.root, `${TREE_PREFIX}${randomUUID()}`);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await mkdir(dir, { mode: 0o700 });
    const remove = () => rm(dir, { recursive: true, force: true });
    try {
      await writeEntries(dir, budgeted(body, new ByteBudget(limits.maxTotalBytes)), limits);
    } catch (err) {
      body.destroy();
      await remove();
      throw asNoSpaceError(err, `Not enough space to receive the recipe in ${this.root}`);
    }
    return { root: dir, remove };
  }

  /**
   * Removes every extracted recipe tree (a daemon killed during a build leaves its tree); for
   * daemon start, when no build can be under way. Answers what was removed.
   */
  async sweep(): Promise<string[]> {
    const names = await readdir(this.root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const swept: string[] = [];
    for (const name of names.filter((n) => n.startsWith(TREE_PREFIX))) {
      await rm(join(this.root, name), { recursive: true, force: true });
      swept.push(join(this.root, name));
    }
    return swept;
  }
}

function budgeted(body: Readable, budget: ByteBudget): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        budget.take(chunk.length);
        yield chunk;
      }
    })(),
  );
}

async function writeEntries(dir: string, tar: Readable, limits: ExtractionLimits): Promise<void> {
  const kinds = new Map<string, 'file' | 'directory' | 'implicit-directory'>();
  let entries = 0;
  for await (const entry of readTarEntries(tar, 'the recipe upload', limits)) {
    const { name, type } = entry.header;
    const reject = (reason: string): never => {
      throw new UnsafeArchiveError(name, reason);
    };
    entries += 1;
    if (entries > limits.maxEntries) throw new ArchiveLimitExceededError('maxEntries', limits.maxEntries, name);
    if (type !== 'file' && type !== 'directory') return reject(`a recipe upload holds only regular files and directories, not a ${type}`);
    const components = splitEntryName(name, limits);
    if (components.length === 0) {
      if (type !== 'directory') reject('the archive root must be a directory');
      continue;
    }
    if (type === 'directory' && entry.header.size !== 0) reject('a directory entry must not carry data');
    const path = components.join('/');
    const existing = kinds.get(path);
    if (existing !== undefined && !(existing === 'implicit-directory' && type === 'directory')) reject(`duplicate entry: ${path} was already extracted as a ${existing}`);
    for (let depth = 1; depth < components.length; depth++) {
      const parent = components.slice(0, depth).join('/');
      const kind = kinds.get(parent);
      if (kind === 'file') reject(`parent ${parent} is a file, not a directory`);
      if (kind === undefined) {
        kinds.set(parent, 'implicit-directory');
        await mkdir(join(dir, parent), { mode: 0o700 });
      }
    }
    kinds.set(path, type);
    if (type === 'directory') {
      if (existing === undefined) await mkdir(join(dir, path), { mode: 0o700 });
      continue;
    }
    const file = await open(join(dir, path), CREATE_FILE, 0o600);
    await pipeline(Readable.from(entry.body), file.createWriteStream());
  }
}
