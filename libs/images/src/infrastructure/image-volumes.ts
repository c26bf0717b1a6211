import { readdir, rename, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '#core';
import { DefaultPool } from '#storage';
import { asNoSpaceError } from './no-space.js';
import { unpackImage, type ImageFiles, type UnpackedImage, type UnpackProgress } from './unpack-image.js';

/** Where an image is unpacked inside its volume before its three top-level entries move up. */
const UNPACK_DIR = '.unpack';

/**
 * Image volumes in the default storage pool: each image is unpacked once, sealed read-only, and
 * instances are cloned from it.
 */
@Injectable()
export class ImageVolumes {
  constructor(private readonly pool: DefaultPool, @Inject(LOGGER) private readonly log: Logger) {}

  /**
   * Unpacks and seals; on any failure the volume is removed before the error is rethrown. A full
   * pool is STORAGE.NO_SPACE.
   */
  async create(fingerprint: string, files: ImageFiles, signal: AbortSignal, onProgress: (p: UnpackProgress) => void): Promise<UnpackedImage> {
    const pool = await this.pool.get();
    const path = await pool.createImageVolume(fingerprint);
    try {
      const unpacked = await unpackImage({ files, target: join(path, UNPACK_DIR), expectedFingerprint: fingerprint, signal, onProgress });
      for (const entry of await readdir(join(path, UNPACK_DIR))) await rename(join(path, UNPACK_DIR, entry), join(path, entry));
      await rmdir(join(path, UNPACK_DIR));
      await pool.sealImageVolume(fingerprint);
      return unpacked;
    } catch (err) {
      await pool.deleteImageVolume(fingerprint).catch((e) => this.log.error({ err: (e as Error).message, fingerprint }, 'could not remove a failed image volume'));
      throw asNoSpaceError(err, `Not enough space in storage pool ${JSON.stringify(pool.pool)} to unpack the image`);
    }
  }

  async delete(fingerprint: string): Promise<void> {
    const pool = await this.pool.get();
    await pool.deleteImageVolume(fingerprint);
  }
}
