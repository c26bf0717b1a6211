import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

/** The instance to publish, as the caller found it: stopped, with its architecture and expanded config. */
export interface PublishSource {
  readonly name: string;
  readonly architecture: string;
  readonly config: Readonly<Record<string, string>>;
}

/**
 * POST /1.0/images with `{"source": {"type": "instance", "name": ...}}`: the instance's root
 * volume becomes an image. `body` is the request's other fields (aliases, properties, public,
 * filename), validated by the handler.
 */
export class PublishImageCommand extends Command<OperationView> {
  constructor(
    readonly source: PublishSource,
    readonly body: Readonly<Record<string, unknown>>,
  ) {
    super();
  }
}
