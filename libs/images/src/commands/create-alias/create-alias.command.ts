import { Command } from '@nestjs/cqrs';

export class CreateAliasCommand extends Command<void> {
  constructor(readonly name: unknown, readonly target: unknown, readonly description: unknown) {
    super();
  }
}
