import { Command } from '@nestjs/cqrs';

export class DeleteAliasCommand extends Command<void> {
  constructor(readonly name: string) {
    super();
  }
}
