import { Command } from '@nestjs/cqrs';
import type { ImportOptions } from '#images';
import type { OperationView } from '#operations';

/** POST /1.0/images with `{"source": {"type": "instance", "name": ...}}`: a stopped instance's root volume becomes an image. */
export class PublishInstanceCommand extends Command<OperationView> {
  constructor(
    readonly name: string,
    /** Aliases, properties, public, filename (parsed at the edge by images' parsePublishOptions). */
    readonly options: ImportOptions,
  ) {
    super();
  }
}
