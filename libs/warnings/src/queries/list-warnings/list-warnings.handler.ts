import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { WarningView } from '../../domain/warning.js';
import { WarningRepository } from '../../infrastructure/warning.repository.js';
import { warningView } from '../warning-view.js';
import { ListWarningsQuery } from './list-warnings.query.js';

@QueryHandler(ListWarningsQuery)
export class ListWarningsHandler implements IQueryHandler<ListWarningsQuery> {
  constructor(private readonly warnings: WarningRepository) {}

  async execute({ recursion, status }: ListWarningsQuery): Promise<string[] | WarningView[]> {
    const rows = await this.warnings.list(status);
    return recursion === 0 ? rows.map((r) => `/1.0/warnings/${r.uuid}`) : rows.map(warningView);
  }
}
