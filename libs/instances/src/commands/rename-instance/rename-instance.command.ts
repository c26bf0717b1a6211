import { Command } from '@nestjs/cqrs';

export class RenameInstanceCommand extends Command<void> {
  constructor(readonly name: string, readonly newName: string) {
    super();
  }
}
