import { Query } from '@nestjs/cqrs';
import type { AliasView } from '../../domain/image-record.js';

export class GetAliasQuery extends Query<AliasView> {
  constructor(readonly name: string) {
    super();
  }
}
