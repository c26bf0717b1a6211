import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { stringify } from 'yaml';
import { OperationRunner, type OperationView } from '#operations';
import { DefaultPool } from '#storage';
import { parseImageMetadata, type ImageMetadata } from '../../domain/image-metadata.js';
import { ImageAlreadyExistsError } from '../../domain/image-store.errors.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { ImageImporter } from '../../infrastructure/image-importer.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { packVolume } from '../../infrastructure/pack-volume.js';
import { PublishImageCommand, type PublishSource } from './publish-image.command.js';
import { parsePublishOptions } from './publish-options.js';

/**
 * Packs a stopped instance's root volume as a unified LXD image (its templates kept), then imports
 * it as an upload is imported, in one operation: the fingerprint is the tarball's sha256 and the
 * image can be launched at once. The properties are the source image's, then the instance's
 * `image.*` config keys, then the request's. Whatever fails, nothing is left.
 */
@CommandHandler(PublishImageCommand)
export class PublishImageHandler implements ICommandHandler<PublishImageCommand> {
  constructor(
    private readonly images: ImageRepository,
    private readonly operations: OperationRunner,
    private readonly files: ImageFileStore,
    private readonly importer: ImageImporter,
    private readonly pool: DefaultPool,
  ) {}

  async execute({ source, body }: PublishImageCommand): Promise<OperationView> {
    const options = parsePublishOptions(body);
    const volume = (await this.pool.get()).instanceVolumePath(source.name);
    return this.operations.start({
      description: 'Publishing instance',
      resources: { instances: [`/1.0/instances/${source.name}`], containers: [`/1.0/containers/${source.name}`] },
      cancellable: true,
      run: async (ctx) => {
        const metadataYaml = metadataFor(source, await sourceMetadata(volume), options.properties);
        const upload = await this.files.produce((output) =>
          packVolume({
            volume,
            metadataYaml,
            output,
            signal: ctx.signal,
            onProgress: (p) => void ctx.progress({ progress: { stage: 'pack', entries: p.entries, bytes: p.bytes } }),
          }),
        );
        if (await this.images.exists(upload.fingerprint)) {
          await this.files.discard(upload);
          throw new ImageAlreadyExistsError(upload.fingerprint);
        }
        return this.importer.import(upload, options, ctx);
      },
    });
  }
}

/* The metadata.yaml of the image the instance came from, as its clone keeps it beside rootfs/. */
async function sourceMetadata(volume: string): Promise<ImageMetadata | null> {
  let text: string;
  try {
    text = await readFile(join(volume, 'metadata.yaml'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return parseImageMetadata(text);
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
