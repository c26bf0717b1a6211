import { Command } from '@nestjs/cqrs';

export class DeleteInstanceCommand extends Command<void> {
  constructor(
    readonly name: string,
    /** Berth's own clean-ups (a failed import, an interrupted create) delete even a protected instance, as LXD's do. */
    readonly force = false,
  ) {
    super();
  }
}
