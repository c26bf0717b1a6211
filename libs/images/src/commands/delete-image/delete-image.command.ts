import { Command } from '@nestjs/cqrs';
import type { OperationView } from '#operations';

export class DeleteImageCommand extends Command<OperationView> {
  constructor(readonly reference: string) {
    super();
  }
}
