/**
 * Serializes operations on the same paths inside this process. Checking that a volume does not
 * exist and then creating it must not interleave with another create of the same name: a btrfs
 * snapshot or a `cp` onto an existing directory would nest inside it instead of failing. The
 * table is process-wide because two driver objects for one pool still share the filesystem.
 */
const tails = new Map<string, Promise<void>>();

export async function withPathLocks<T>(paths: readonly string[], work: () => Promise<T>): Promise<T> {
  // A fixed order keeps two multi-path operations (renames) from waiting on each other.
  const ordered = [...new Set(paths)].sort();
  const releases: Array<() => void> = [];
  try {
    for (const path of ordered) releases.push(await acquire(path));
    return await work();
  } finally {
    for (const release of releases.reverse()) release();
  }
}

async function acquire(path: string): Promise<() => void> {
  const previous = tails.get(path) ?? Promise.resolve();
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => done);
  tails.set(path, tail);
  await previous;
  return () => {
    release();
    if (tails.get(path) === tail) tails.delete(path);
  };
}
