import { Command } from '@nestjs/cqrs';

export class RenameProfileCommand extends Command<void> {
  constructor(readonly name: string, readonly newName: string) {
    super();
  }
}
