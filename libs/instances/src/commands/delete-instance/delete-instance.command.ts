import { Command } from '@nestjs/cqrs';

export class DeleteInstanceCommand extends Command<void> {
  constructor(readonly name: string) {
    super();
  }
}
