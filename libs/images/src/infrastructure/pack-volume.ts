import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readTextIfExists } from './read-if-exists.js';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { GuestRoot, type GuestStat } from '#runtime';
import { ImagePublishError } from '../domain/image.errors.js';

/** What to pack: a volume holding `rootfs/` and maybe `templates/`, and the metadata.yaml to give it. */
export interface PackVolumeRequest {
  /** An instance volume (a stopped instance's: nothing may change it while it is read). */
  readonly volume: string;
  readonly metadataYaml: string;
  /** The tarball to create (it must not exist). */
  readonly output: string;
  readonly signal: AbortSignal;
  readonly onProgress?: (p: { entries: number; bytes: number }) => void;
  readonly nativeDir?: string;
}

export interface PackedVolume {
  /** sha256 of the tarball as written: the image's fingerprint. */
  readonly fingerprint: string;
  readonly size: number;
  readonly entries: number;
  readonly warnings: string[];
}

/** How the ownership of a rootfs is shifted on disk (the runtime's `.berth-shifted.<name>` marker). */
interface Shift {
  readonly base: number;
  readonly count: number;
}

/**
 * Packs a volume as a unified LXD image (gzip): metadata.yaml, then `templates/` and `rootfs/`.
 * The tree is the guest's and is read as hostile: every path is resolved inside it (GuestRoot,
 * openat2 RESOLVE_IN_ROOT), symlinks are stored as links and never followed, a file is read only
 * if what was opened is what was listed. Owners are numeric and in the container's ids (a rootfs
 * shifted on disk is shifted back); hardlinks stay hardlinks; permission bits, setuid included,
 * and modification times are kept. Sockets, FIFOs and device nodes are left out with a warning,
 * as are extended attributes (not read yet). The sha256 is computed as the bytes are written.
 */
export async function packVolume(request: PackVolumeRequest): Promise<PackedVolume> {
  const shift = await readShift(request.volume);
  const hash = createHash('sha256');
  let size = 0;
  const pack = tarPack();
  const written = pipeline(
    pack,
    createGzip(),
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    }),
    createWriteStream(request.output, { flags: 'wx', mode: 0o600 }),
    { signal: request.signal },
  );
  const walker = new Walker(pack, shift, request);
  try {
    await addEntry(pack, { name: 'metadata.yaml', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, Buffer.from(request.metadataYaml));
    const top = new GuestRoot(request.volume, { nativeDir: request.nativeDir });
    const templates = await top.lstatIfExists('templates');
    if (templates?.type === 'directory') await walker.tree(new GuestRoot(join(request.volume, 'templates'), { nativeDir: request.nativeDir }), 'templates', null);
    await walker.tree(new GuestRoot(join(request.volume, 'rootfs'), { nativeDir: request.nativeDir }), 'rootfs', shift);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    await written.catch(() => undefined);
    throw error;
  }
  await written;
  return { fingerprint: hash.digest('hex'), size, entries: walker.entries, warnings: walker.warnings };
}

type TarHeader = Partial<Header> & Pick<Header, 'name'>;

class Walker {
  entries = 0;
  bytes = 0;
  readonly warnings: string[] = [];
  /** First archive name of each inode with several links, per tree. */
  private links = new Map<number, string>();

  constructor(
    private readonly pack: Pack,
    private readonly shiftOfRootfs: Shift | null,
    private readonly request: PackVolumeRequest,
  ) {}

  async tree(guest: GuestRoot, prefix: string, shift: Shift | null): Promise<void> {
    this.links = new Map();
    const top = await guest.lstat('/');
    await this.add(guest, prefix, '/', top, shift);
  }

  private async add(guest: GuestRoot, prefix: string, path: string, stat: GuestStat, shift: Shift | null): Promise<void> {
    this.request.signal.throwIfAborted();
    const name = path === '/' ? `${prefix}/` : `${prefix}${path}`;
    const header: TarHeader = { name, mode: stat.mode, uid: unshift(stat.uid, shift), gid: unshift(stat.gid, shift), mtime: new Date(stat.mtimeMs) };
    this.entries++;
    if (this.entries % 256 === 0) this.request.onProgress?.({ entries: this.entries, bytes: this.bytes });
    switch (stat.type) {
      case 'directory': {
        await addEntry(this.pack, { ...header, type: 'directory' });
        for (const entry of await guest.readdir(path)) {
          const child = path === '/' ? `/${entry.name}` : `${path}/${entry.name}`;
          await this.add(guest, prefix, child, await guest.lstat(child), shift);
        }
        return;
      }
      case 'symlink':
        await addEntry(this.pack, { ...header, type: 'symlink', linkname: await guest.readlink(path) });
        return;
      case 'file': {
        const first = stat.nlink > 1 ? this.links.get(stat.ino) : undefined;
        if (first !== undefined) {
          await addEntry(this.pack, { ...header, type: 'link', linkname: first });
          return;
        }
        const { stream, stat: opened } = await guest.openRead(path);
        if (opened.ino !== stat.ino || opened.type !== 'file') {
          stream.destroy();
          throw new ImagePublishError(`${name} changed while the instance was being packed`);
        }
        if (stat.nlink > 1) this.links.set(stat.ino, name);
        const entry = this.pack.entry({ ...header, type: 'file', size: opened.size });
        await pipeline(stream, entry, { signal: this.request.signal });
        this.bytes += opened.size;
        return;
      }
      default:
        this.entries--;
        this.warnings.push(`${name}: not a file, directory or symlink (a socket, FIFO or device node): left out`);
    }
  }
}

function addEntry(pack: Pack, header: TarHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, body ?? '', (error) => (error ? reject(error) : resolve()));
  });
}

function unshift(id: number, shift: Shift | null): number {
  if (shift === null) return id;
  return id >= shift.base && id < shift.base + shift.count ? id - shift.base : 65534;
}

async function readShift(volume: string): Promise<Shift | null> {
  const text = await readTextIfExists(join(volume, '.berth-shifted.rootfs'));
  if (text === null) return null;
  const shifted = /^shifted (\d+) (\d+)\n?$/.exec(text);
  if (!shifted) throw new ImagePublishError('the instance rootfs is in the middle of an ownership shift: start and stop the instance, then publish again');
  return { base: Number(shifted[1]), count: Number(shifted[2]) };
}
