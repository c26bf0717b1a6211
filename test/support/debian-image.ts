import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { ensureRootfs } from './rootfs.js';

const run = promisify(execFile);
const CACHE = '/var/cache/berth/images';

/**
 * The debian-12 rootfs (images/debian-12) as a unified LXD image tarball (uncompressed, owners
 * and capabilities kept), cached next to the rootfs it was made from.
 */
export async function ensureDebianImage(): Promise<string> {
  const rootfs = await ensureRootfs();
  const path = join(CACHE, `debian-12-${createHash('sha256').update(basename(rootfs)).digest('hex').slice(0, 16)}.tar`);
  if (existsSync(path)) return path;
  await mkdir(CACHE, { recursive: true });
  const work = await mkdtemp(join(CACHE, '.build-'));
  try {
    await writeFile(
      join(work, 'metadata.yaml'),
      'architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: debian\n  release: "12"\n  description: Debian 12 (bookworm) with systemd\n',
    );
    const tarball = join(work, 'image.tar');
    await run('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=security.capability', '-cf', tarball, '-C', work, 'metadata.yaml', '--transform', 's,^\\.,rootfs,S', '-C', rootfs, '.'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    await rename(tarball, path);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return path;
}
