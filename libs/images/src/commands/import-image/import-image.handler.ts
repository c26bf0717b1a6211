import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OperationRunner, type OperationView } from '#operations';
import { ImageAlreadyExistsError } from '../../domain/image-store.errors.js';
import { FingerprintMismatchError } from '../../domain/image.errors.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { ImageImporter } from '../../infrastructure/image-importer.js';
import { ImportImageCommand } from './import-image.command.js';

/**
 * Receives the upload (hashing it on the way), refuses a known fingerprint at once, then unpacks
 * it in an operation. Whatever fails, nothing is left: no row, no volume, no file.
 */
@CommandHandler(ImportImageCommand)
export class ImportImageHandler implements ICommandHandler<ImportImageCommand> {
  constructor(
    private readonly images: ImageRepository,
    private readonly operations: OperationRunner,
    private readonly files: ImageFileStore,
    private readonly importer: ImageImporter,
  ) {}

  async execute({ body, layout, options }: ImportImageCommand): Promise<OperationView> {
    const upload = await this.files.receive(body, layout);
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
      run: (ctx) => this.importer.import(upload, options, ctx),
    });
  }
}
