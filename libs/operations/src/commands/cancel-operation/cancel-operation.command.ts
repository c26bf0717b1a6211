import { Command } from '@nestjs/cqrs';
import type { OperationView } from '../../domain/operation.js';

export class CancelOperationCommand extends Command<OperationView> {
  constructor(readonly id: string) {
    super();
  }
}
