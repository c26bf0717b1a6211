import { Command } from '@nestjs/cqrs';

export class RenameNetworkCommand extends Command<void> {
  constructor(readonly name: string, readonly newName: unknown) {
    super();
  }
}
