import { Query } from '@nestjs/cqrs';
import type { WarningView } from '../../domain/warning.js';

export class GetWarningQuery extends Query<WarningView> {
  constructor(readonly uuid: string) {
    super();
  }
}
