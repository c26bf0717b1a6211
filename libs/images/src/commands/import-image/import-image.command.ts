import type { IncomingMessage } from 'node:http';
import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/** POST /1.0/images with the image as the body (raw tarball, or multipart metadata + rootfs). */
export class ImportImageCommand extends Command<OperationView> {
  constructor(readonly request: IncomingMessage) {
    super();
  }
}
