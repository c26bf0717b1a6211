import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finished, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { Inject, Injectable } from '@nestjs/common';
import { BERTH_CONFIG, MalformedRequestError, ValidationError, type BerthConfig } from '#core';
import type { UploadLayout } from '../domain/image-upload.js';
import { asNoSpaceError } from './no-space.js';
import type { ImageFiles } from './unpack-image.js';

/** Where an upload is received, before the import moves its files to their final names. */
const UPLOAD_PREFIX = '.upload-';
/** The name of a kept image file: a sha256, and `.rootfs` for a split image's second part. */
const IMAGE_FILE = /^([0-9a-f]{64})(\.rootfs)?$/;

/** An upload received into $BERTH_DIR/images/.upload-<id>/, hashed on the way in. */
export interface ReceivedUpload {
  dir: string;
  files: ImageFiles;
  fingerprint: string;
  size: number;
}

/**
 * The image files as imported, kept for export and re-publish: `<fp>` for a unified image, `<fp>`
 * (metadata) and `<fp>.rootfs` for a split one, as LXD names them.
 */
@Injectable()
export class ImageFileStore {
  readonly root: string;

  constructor(@Inject(BERTH_CONFIG) config: BerthConfig) {
    this.root = join(config.BERTH_DIR, 'images');
  }

  paths(fingerprint: string, kind: 'unified' | 'split'): string[] {
    const base = join(this.root, fingerprint);
    return kind === 'unified' ? [base] : [base, `${base}.rootfs`];
  }

  /**
   * Streams an upload's body to disk: a raw tarball, or multipart with `metadata` and `rootfs`
   * parts (what `lxc image import meta.tar rootfs.tar` sends). The sha256 is computed as the
   * bytes pass, over the metadata part then the rootfs part, which is LXD's fingerprint. A full
   * disk is STORAGE.NO_SPACE and leaves no file. On failure `body` is destroyed, never drained
   * here: whoever handed it over decides what happens to the rest of it.
   */
  async receive(body: Readable, layout: UploadLayout): Promise<ReceivedUpload> {
    body.on('error', () => undefined); // an early failure is read from the stream once reading starts
    const dir = join(this.root, `${UPLOAD_PREFIX}${randomUUID()}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      if (layout.kind === 'multipart') return await this.receiveSplit(body, layout.boundary, dir);
      const path = join(dir, 'image');
      const hash = createHash('sha256');
      await pipeline(body, hashing(hash), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      const { size } = await stat(path);
      if (size === 0) throw new ValidationError('body', 'the image upload is empty');
      return { dir, files: { kind: 'unified', path }, fingerprint: hash.digest('hex'), size };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw asNoSpaceError(err, `Not enough space to receive the image upload in ${this.root}`);
    }
  }

  /**
   * The first failure (a part that cannot be written, e.g. ENOSPC; a part of another name; a
   * malformed form; an interrupted upload) stops the form at once: busboy and the body are
   * destroyed, and the error is given once every part's write has settled, so nothing writes into
   * the upload directory after it is removed. A failed write is always observed: it must not
   * become an unhandled rejection, which would end the daemon.
   */
  private async receiveSplit(body: Readable, boundary: string, dir: string): Promise<ReceivedUpload> {
    const parts = new Map<string, string>();
    await new Promise<void>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: { 'content-type': `multipart/form-data; boundary="${boundary}"` }, limits: { files: 2, fields: 10, parts: 12 } });
      } catch (err) {
        reject(new MalformedRequestError(`Invalid multipart body: ${(err as Error).message}`));
        return;
      }
      const writes: Promise<void>[] = [];
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        bb.destroy();
        body.destroy();
        void Promise.allSettled(writes).then(() => reject(err));
      };
      bb.on('file', (name: string, stream: Readable) => {
        if (failed || (name !== 'metadata' && name !== 'rootfs') || parts.has(name)) {
          // Dropped: destroying busboy may destroy this stream with an error nobody else listens to.
          stream.on('error', () => undefined).resume();
          if (!failed) fail(new ValidationError('body', `unexpected multipart part "${name}" (expected metadata and rootfs)`));
          return;
        }
        const path = join(dir, name);
        parts.set(name, path);
        const write = pipeline(stream, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
        writes.push(write);
        write.catch(fail);
      });
      bb.on('error', (err: Error) => fail(new MalformedRequestError(`Invalid multipart body: ${err.message}`)));
      bb.on('close', () => {
        if (!failed) Promise.all(writes).then(() => resolve(), fail);
      });
      // finished(), not on('error'): it also reports an error the body had before this point.
      finished(body, (err) => {
        if (err) fail(err);
      });
      body.pipe(bb);
    });
    const metadataPath = parts.get('metadata');
    const rootfsPath = parts.get('rootfs');
    if (!metadataPath || !rootfsPath) throw new ValidationError('body', 'a split image needs both a metadata and a rootfs part');
    const hash = createHash('sha256');
    let size = 0;
    for (const path of [metadataPath, rootfsPath]) {
      await pipeline(createReadStream(path), hashing(hash), devNull());
      size += (await stat(path)).size;
    }
    return { dir, files: { kind: 'split', metadataPath, rootfsPath }, fingerprint: hash.digest('hex'), size };
  }

  /**
   * An image made here (a published instance): `write` creates the unified tarball at the path it
   * is given and returns its sha256; on failure nothing of it is left.
   */
  async produce(write: (path: string) => Promise<{ fingerprint: string; size: number }>): Promise<ReceivedUpload> {
    const dir = join(this.root, `${UPLOAD_PREFIX}${randomUUID()}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const path = join(dir, 'image');
      const { fingerprint, size } = await write(path);
      return { dir, files: { kind: 'unified', path }, fingerprint, size };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw asNoSpaceError(err, `Not enough space to write the image in ${this.root}`);
    }
  }

  /**
   * Moves a received upload's files to their final names (over any file a crash left there); the
   * upload directory stays until `discard`.
   */
  async keep(upload: ReceivedUpload): Promise<void> {
    const sources = upload.files.kind === 'unified' ? [upload.files.path] : [upload.files.metadataPath, upload.files.rootfsPath];
    const targets = this.paths(upload.fingerprint, upload.files.kind);
    for (let i = 0; i < sources.length; i++) await rename(sources[i], targets[i]);
  }

  async discard(upload: ReceivedUpload): Promise<void> {
    await rm(upload.dir, { recursive: true, force: true });
  }

  async remove(fingerprint: string, kind: 'unified' | 'split'): Promise<void> {
    for (const path of this.paths(fingerprint, kind)) await rm(path, { force: true });
  }

  /**
   * Removes every upload directory (a daemon killed while receiving or importing leaves its
   * upload); for daemon start, when no upload can be under way. Answers what was removed.
   */
  async sweepUploads(): Promise<string[]> {
    const swept: string[] = [];
    for (const name of await this.entries()) {
      if (!name.startsWith(UPLOAD_PREFIX)) continue;
      await rm(join(this.root, name), { recursive: true, force: true });
      swept.push(join(this.root, name));
    }
    return swept;
  }

  /** The fingerprints that have kept files, whether or not an image of theirs is recorded. */
  async storedFingerprints(): Promise<string[]> {
    const found = new Set<string>();
    for (const name of await this.entries()) {
      const match = IMAGE_FILE.exec(name);
      if (match) found.add(match[1]);
    }
    return [...found].sort();
  }

  private async entries(): Promise<string[]> {
    try {
      return await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

function hashing(hash: ReturnType<typeof createHash>) {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

function devNull() {
  return new Transform({ transform: (_chunk, _enc, done) => done() });
}
