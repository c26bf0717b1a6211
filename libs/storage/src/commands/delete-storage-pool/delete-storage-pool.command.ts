import { Command } from '@nestjs/cqrs';

export class DeleteStoragePoolCommand extends Command<void> {
  constructor(readonly name: string) {
    super();
  }
}
