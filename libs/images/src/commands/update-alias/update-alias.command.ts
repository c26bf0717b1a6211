import { Command } from '@nestjs/cqrs';

/** PUT sets target and description; PATCH changes the ones given. */
export class UpdateAliasCommand extends Command<void> {
  constructor(readonly name: string, readonly mode: 'replace' | 'merge', readonly target: unknown, readonly description: unknown) {
    super();
  }
}
