import { Command } from '@nestjs/cqrs';

/** Removes a warning; it comes back at the next check if its condition is still there. */
export class DeleteWarningCommand extends Command<void> {
  constructor(readonly uuid: string) {
    super();
  }
}
