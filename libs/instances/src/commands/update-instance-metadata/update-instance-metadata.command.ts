import { Command } from '@nestjs/cqrs';

/**
 * PUT (replace) or PATCH (merge) /1.0/instances/{name}/metadata with LXD's api.ImageMetadata as
 * JSON; `ifMatch` is the If-Match header, when given.
 */
export class UpdateInstanceMetadataCommand extends Command<void> {
  constructor(
    readonly name: string,
    readonly mode: 'replace' | 'merge',
    readonly body: unknown,
    readonly ifMatch: string | undefined,
  ) {
    super();
  }
}
