import { Command } from '@nestjs/cqrs';

export class RenameAliasCommand extends Command<void> {
  constructor(readonly name: string, readonly newName: unknown) {
    super();
  }
}
