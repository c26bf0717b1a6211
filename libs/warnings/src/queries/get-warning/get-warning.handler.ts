import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { WarningView } from '../../domain/warning.js';
import { WarningRepository } from '../../infrastructure/warning.repository.js';
import { warningView } from '../warning-view.js';
import { GetWarningQuery } from './get-warning.query.js';

@QueryHandler(GetWarningQuery)
export class GetWarningHandler implements IQueryHandler<GetWarningQuery> {
  constructor(private readonly warnings: WarningRepository) {}

  async execute({ uuid }: GetWarningQuery): Promise<WarningView> {
    return warningView(await this.warnings.get(uuid));
  }
}
