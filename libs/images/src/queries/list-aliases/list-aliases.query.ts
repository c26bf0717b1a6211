import { Query } from '@nestjs/cqrs';
import type { AliasView } from '../../domain/image-record.js';

export class ListAliasesQuery extends Query<string[] | AliasView[]> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}
