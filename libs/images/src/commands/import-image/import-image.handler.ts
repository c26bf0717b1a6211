import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { OperationRunner, type OperationView } from '#operations';
import { ImageAlreadyExistsError } from '../../domain/image-store.errors.js';
import { FingerprintMismatchError } from '../../domain/image.errors.js';
import { ImageCreatedEvent } from '../../events/image-events.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { ImageVolumes } from '../../infrastructure/image-volumes.js';
import { ImportImageCommand } from './import-image.command.js';
import { parseImportHeaders } from './import-headers.js';

/**
 * Receives the upload (hashing it on the way), refuses a known fingerprint at once, then unpacks
 * it in an operation. Whatever fails, nothing is left: no row, no volume, no file.
 */
@CommandHandler(ImportImageCommand)
export class ImportImageHandler implements ICommandHandler<ImportImageCommand> {
  constructor(
    private readonly images: ImageRepository,
    private readonly volumes: ImageVolumes,
    private readonly operations: OperationRunner,
    private readonly events: EventBus,
    private readonly files: ImageFileStore,
  ) {}

  async execute({ request }: ImportImageCommand): Promise<OperationView> {
    const options = parseImportHeaders(request.headers);
    const upload = await this.files.receive(request);
    try {
      if (options.expectedFingerprint && options.expectedFingerprint !== upload.fingerprint) {
        throw new FingerprintMismatchError(options.expectedFingerprint, upload.fingerprint);
      }
      if (await this.images.exists(upload.fingerprint)) throw new ImageAlreadyExistsError(upload.fingerprint);
    } catch (err) {
      await this.files.discard(upload);
      throw err;
    }
    return this.operations.start({
      description: 'Importing image',
      resources: { images: [`/1.0/images/${upload.fingerprint}`] },
      cancellable: true,
      run: async ({ signal, progress }) => {
        try {
          const unpacked = await this.volumes.create(upload.fingerprint, upload.files, signal, (p) => {
            void progress({ progress: { stage: 'unpack', percent: p.totalBytes ? Math.floor((p.bytesRead * 100) / p.totalBytes) : 0, entries: p.entries } });
          });
          try {
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
              options.aliases.map((name) => ({ name, description: '' })),
            );
          } catch (err) {
            await this.volumes.delete(upload.fingerprint);
            throw err;
          }
          await this.files.keep(upload);
          this.events.publish(new ImageCreatedEvent(upload.fingerprint));
          return { fingerprint: upload.fingerprint, size: upload.size, warnings: unpacked.warnings };
        } catch (err) {
          await this.files.discard(upload);
          throw err;
        }
      },
    });
  }
}
