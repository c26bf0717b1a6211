import { readdir, rename, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, TestHooks, type Logger } from '#core';
import { DefaultPool } from '#storage';
import { ImageImportInProgressError } from '../domain/image-store.errors.js';
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
  /** The fingerprints whose volume this daemon is filling now. */
  private readonly filling = new Set<string>();

  constructor(
    private readonly pool: DefaultPool,
    private readonly hooks: TestHooks,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Unpacks and seals; on any failure the volume is removed before the error is rethrown. A full
   * pool is STORAGE.NO_SPACE. An unsealed volume of the same image that no import of this daemon
   * is filling (an earlier life of it was killed while importing) is removed first; one that is
   * being filled is RESOURCE.BUSY.
   */
  async create(fingerprint: string, files: ImageFiles, signal: AbortSignal, onProgress: (p: UnpackProgress) => void): Promise<UnpackedImage> {
    if (this.filling.has(fingerprint)) throw new ImageImportInProgressError(fingerprint);
    this.filling.add(fingerprint);
    try {
      const pool = await this.pool.get();
      if (await pool.removeUnfinishedImageVolume(fingerprint)) {
        this.log.warn({ fingerprint, pool: pool.pool }, 'removed the unfinished volume of an interrupted import of this image');
      }
      const path = await pool.createImageVolume(fingerprint);
      try {
        const unpacked = await unpackImage({ files, target: join(path, UNPACK_DIR), expectedFingerprint: fingerprint, signal, onProgress });
        await this.hooks.reach('image-import.filling');
        for (const entry of await readdir(join(path, UNPACK_DIR))) await rename(join(path, UNPACK_DIR, entry), join(path, entry));
        await rmdir(join(path, UNPACK_DIR));
        await pool.sealImageVolume(fingerprint);
        return unpacked;
      } catch (err) {
        await pool.deleteImageVolume(fingerprint).catch((e) => this.log.error({ err: (e as Error).message, fingerprint }, 'could not remove a failed image volume'));
        throw asNoSpaceError(err, `Not enough space in storage pool ${JSON.stringify(pool.pool)} to unpack the image`);
      }
    } finally {
      this.filling.delete(fingerprint);
    }
  }

  async delete(fingerprint: string): Promise<void> {
    const pool = await this.pool.get();
    await pool.deleteImageVolume(fingerprint);
  }

  /** Removes every unsealed image volume; for daemon start, when no import can be under way. */
  async sweepUnfinished(): Promise<string[]> {
    return (await this.pool.get()).sweepUnfinished();
  }

  /** The fingerprints that have a sealed volume, whether or not an image of theirs is recorded. */
  async sealedFingerprints(): Promise<string[]> {
    const volumes = await (await this.pool.get()).listVolumes();
    return volumes.flatMap((v) => (v.kind === 'image' && v.sealed ? [v.fingerprint] : []));
  }
}
