import { Command } from '@nestjs/cqrs';

export class DeleteNetworkCommand extends Command<void> {
  constructor(readonly name: string) {
    super();
  }
}
