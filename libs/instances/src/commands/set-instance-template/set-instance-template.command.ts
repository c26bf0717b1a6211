import type { Readable } from 'node:stream';
import { Command } from '@nestjs/cqrs';

/** POST or PUT /1.0/instances/{name}/metadata/templates?path=: creates or replaces a template with the raw body. */
export class SetInstanceTemplateCommand extends Command<void> {
  constructor(
    readonly name: string,
    readonly path: string | undefined,
    readonly body: Readable,
  ) {
    super();
  }
}
