import { Injectable } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { TestHooks } from '#core';
import type { OperationContext } from '#operations';
import type { ImportOptions } from '../domain/image-upload.js';
import { ImageCreatedEvent } from '../events/image-events.js';
import { ImageFileStore, type ReceivedUpload } from './image-files.js';
import { ImageRepository } from './image.repository.js';
import { ImageVolumes } from './image-volumes.js';

/**
 * The part of an import that runs in its operation, shared by uploads and published instances:
 * unpack into the pool and seal, keep the files, then record the image and its aliases. The row
 * is the commit point: before it, a volume or files of the image are an unfinished import (the
 * daemon removes them at start, see UnfinishedImports); once it is in, everything it names is in
 * place. Whatever fails, nothing is left: no row, no volume, no file.
 */
@Injectable()
export class ImageImporter {
  constructor(
    private readonly images: ImageRepository,
    private readonly volumes: ImageVolumes,
    private readonly files: ImageFileStore,
    private readonly events: EventBus,
    private readonly hooks: TestHooks,
  ) {}

  async import(upload: ReceivedUpload, options: ImportOptions, { signal, progress }: Pick<OperationContext, 'signal' | 'progress'>) {
    try {
      await this.hooks.reach('image-import.received');
      const unpacked = await this.volumes.create(upload.fingerprint, upload.files, signal, (p) => {
        void progress({ progress: { stage: 'unpack', percent: p.totalBytes ? Math.floor((p.bytesRead * 100) / p.totalBytes) : 0, entries: p.entries } });
      });
      try {
        await this.hooks.reach('image-import.sealed');
        await this.files.keep(upload);
        await this.hooks.reach('image-import.kept');
        await this.images.insert(
          {
            fingerprint: upload.fingerprint,
            type: 'container',
            fileKind: upload.files.kind,
            filename: options.filename,
            size: upload.size,
            architecture: unpacked.metadata.architecture,
            public: options.public,
            autoUpdate: false,
            cached: false,
            properties: { ...unpacked.metadata.properties, ...options.properties },
            metadata: { templates: unpacked.metadata.templates, warnings: unpacked.warnings },
            createdAt: new Date(unpacked.metadata.creationDate * 1000),
            expiresAt: unpacked.metadata.expiryDate ? new Date(unpacked.metadata.expiryDate * 1000) : null,
          },
          options.aliases,
        );
      } catch (err) {
        await this.files.remove(upload.fingerprint, upload.files.kind);
        await this.volumes.delete(upload.fingerprint);
        throw err;
      }
      await this.files.discard(upload);
      this.events.publish(new ImageCreatedEvent(upload.fingerprint));
      return { fingerprint: upload.fingerprint, size: upload.size, warnings: unpacked.warnings };
    } catch (err) {
      await this.files.discard(upload);
      throw err;
    }
  }
}
