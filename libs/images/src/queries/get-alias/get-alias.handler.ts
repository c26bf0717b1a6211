import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { AliasView } from '../../domain/image-record.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { GetAliasQuery } from './get-alias.query.js';

@QueryHandler(GetAliasQuery)
export class GetAliasHandler implements IQueryHandler<GetAliasQuery> {
  constructor(private readonly images: ImageRepository) {}

  execute({ name }: GetAliasQuery): Promise<AliasView> {
    return this.images.alias(name);
  }
}
