import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { AliasView } from '../../domain/image-record.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { ListAliasesQuery } from './list-aliases.query.js';

@QueryHandler(ListAliasesQuery)
export class ListAliasesHandler implements IQueryHandler<ListAliasesQuery> {
  constructor(private readonly images: ImageRepository) {}

  async execute({ recursion }: ListAliasesQuery): Promise<string[] | AliasView[]> {
    const all = await this.images.aliases();
    return recursion === 0 ? all.map((a) => `/1.0/images/aliases/${encodeURIComponent(a.name)}`) : all;
  }
}
