import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { stringify } from 'yaml';
import { TestHooks } from '#core';
import type { OperationContext } from '#operations';
import { DefaultPool } from '#storage';
import { parseImageMetadata, type ImageMetadata } from '../domain/image-metadata.js';
import { ImageAlreadyExistsError } from '../domain/image-store.errors.js';
import type { ImportOptions } from '../domain/image-upload.js';
import { ImageFileStore } from '../infrastructure/image-files.js';
import { ImageImporter } from '../infrastructure/image-importer.js';
import { ImageRepository } from '../infrastructure/image.repository.js';
import { packVolume } from '../infrastructure/pack-volume.js';
import { readTextIfExists } from '../infrastructure/read-if-exists.js';

/** The instance to publish, as its owner hands it over: stopped (and kept so), with its architecture and expanded config. */
export interface PublishSource {
  readonly name: string;
  readonly architecture: string;
  readonly config: Readonly<Record<string, string>>;
}

/**
 * Packs a stopped instance's root volume as a unified LXD image (its templates kept), then imports
 * it as an upload is imported: the fingerprint is the tarball's sha256 and the image can be
 * launched at once. The properties are the source image's, then the instance's `image.*` config
 * keys, then the request's. Whatever fails, nothing is left. The port the instances context
 * publishes through, in its own operation and under the instance's lock (the instance must stay
 * stopped while its volume is read).
 */
@Injectable()
export class ImagePublisher {
  constructor(
    private readonly images: ImageRepository,
    private readonly files: ImageFileStore,
    private readonly importer: ImageImporter,
    private readonly pool: DefaultPool,
    private readonly hooks: TestHooks,
  ) {}

  async publish(source: PublishSource, options: ImportOptions, ctx: OperationContext): Promise<Record<string, unknown>> {
    const volume = (await this.pool.get()).instanceVolumePath(source.name);
    const metadataYaml = metadataFor(source, await sourceMetadata(volume), options.properties);
    const upload = await this.files.produce(async (output) => {
      const packed = await packVolume({
        volume,
        metadataYaml,
        output,
        signal: ctx.signal,
        onProgress: (p) => void ctx.progress({ progress: { stage: 'pack', entries: p.entries, bytes: p.bytes } }),
      });
      await this.hooks.reach('image-publish.packed');
      return packed;
    });
    if (await this.images.exists(upload.fingerprint)) {
      await this.files.discard(upload);
      throw new ImageAlreadyExistsError(upload.fingerprint);
    }
    return this.importer.import(upload, options, ctx);
  }
}

/* The metadata.yaml of the image the instance came from, as its clone keeps it beside rootfs/. */
async function sourceMetadata(volume: string): Promise<ImageMetadata | null> {
  const text = await readTextIfExists(join(volume, 'metadata.yaml'));
  return text === null ? null : parseImageMetadata(text);
}

function metadataFor(source: PublishSource, origin: ImageMetadata | null, requested: Record<string, string>): string {
  const fromConfig = Object.entries(source.config)
    .filter(([key]) => key.startsWith('image.'))
    .map(([key, value]) => [key.slice('image.'.length), value]);
  const templates = origin?.templates ?? [];
  return stringify({
    architecture: source.architecture,
    creation_date: Math.floor(Date.now() / 1000),
    properties: { ...origin?.properties, ...Object.fromEntries(fromConfig), ...requested },
    ...(templates.length === 0
      ? {}
      : {
          templates: Object.fromEntries(
            templates.map((t) => [t.path, { when: [...t.when], create_only: t.createOnly, template: t.template, ...(Object.keys(t.properties).length ? { properties: t.properties } : {}) }]),
          ),
        }),
  });
}
