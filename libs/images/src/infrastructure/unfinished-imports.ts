import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, type Logger } from '#core';
import { ImageFileStore } from './image-files.js';
import { ImageRepository } from './image.repository.js';
import { ImageVolumes } from './image-volumes.js';
import { RecipeArchives } from './recipe-archives.js';

/**
 * At daemon start, before the API serves, removes what an import or a delete that an earlier life
 * of the daemon did not finish left behind, so that it never blocks the next attempt: upload
 * directories and extracted recipe trees, unsealed image volumes, and a sealed volume or kept
 * files of a fingerprint with no image row (the row is an import's commit point and the first
 * thing a delete removes). Nothing of this daemon is importing yet. Each removal is a warning;
 * a step that fails is logged and the others still run.
 */
@Injectable()
export class UnfinishedImports implements OnApplicationBootstrap {
  constructor(
    private readonly images: ImageRepository,
    private readonly volumes: ImageVolumes,
    private readonly files: ImageFileStore,
    private readonly archives: RecipeArchives,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.step('upload directories', async () => {
      for (const path of await this.files.sweepUploads()) this.log.warn({ path }, 'removed the upload of an interrupted image import');
    });
    await this.step('recipe trees', async () => {
      for (const path of await this.archives.sweep()) this.log.warn({ path }, 'removed the recipe tree of an interrupted image build');
    });
    await this.step('unsealed image volumes', async () => {
      for (const fingerprint of await this.volumes.sweepUnfinished()) this.log.warn({ fingerprint }, 'removed the unsealed volume of an interrupted image import');
    });
    const recorded = await this.images.fingerprints().catch((err: Error) => {
      this.log.error({ err: err.message }, 'could not list the images to look for unrecorded volumes and files');
      return undefined;
    });
    if (!recorded) return;
    await this.step('unrecorded image volumes', async () => {
      for (const fingerprint of await this.volumes.sealedFingerprints()) {
        if (recorded.has(fingerprint)) continue;
        await this.volumes.delete(fingerprint);
        this.log.warn({ fingerprint }, 'removed an image volume with no image (an interrupted import or delete)');
      }
    });
    await this.step('unrecorded image files', async () => {
      for (const fingerprint of await this.files.storedFingerprints()) {
        if (recorded.has(fingerprint)) continue;
        await this.files.remove(fingerprint, 'split');
        this.log.warn({ fingerprint }, 'removed the image files of a fingerprint with no image (an interrupted import or delete)');
      }
    });
  }

  private async step(what: string, sweep: () => Promise<void>): Promise<void> {
    try {
      await sweep();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, `could not sweep unfinished ${what}`);
    }
  }
}
