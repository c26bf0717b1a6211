import type { Readable } from 'node:stream';
import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';
import type { ImportOptions } from '../../domain/image-upload.js';

export interface BuildImageOptions extends Omit<ImportOptions, 'expectedFingerprint'> {
  /**
   * The recipe (its directory or its file) as an absolute path in the uploaded tree, which stands
   * for `/` (the client sends its recipes under their own absolute paths, so that messages name
   * the files it knows).
   */
  readonly recipe: string;
}

/**
 * POST /1.0/images with `Content-Type: application/x-berth-recipe`: `body` is a plain tar of the
 * recipe's directory and of every recipe it is based on. berthd builds, packs and imports the
 * image; an empty `filename` gives the packed tarball's name.
 */
export class BuildImageCommand extends Command<OperationView> {
  constructor(
    readonly body: Readable,
    readonly options: BuildImageOptions,
  ) {
    super();
  }
}
