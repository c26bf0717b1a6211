import type { Readable } from 'node:stream';
import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';
import type { ImportOptions, UploadLayout } from '../../domain/image-upload.js';

/**
 * POST /1.0/images with the image as the body (raw tarball, or multipart metadata + rootfs).
 * `body` may be destroyed by the handler when the upload is refused: the caller keeps the
 * connection alive (the rest of the request is read and dropped).
 */
export class ImportImageCommand extends Command<OperationView> {
  constructor(
    readonly body: Readable,
    readonly layout: UploadLayout,
    readonly options: ImportOptions,
  ) {
    super();
  }
}
