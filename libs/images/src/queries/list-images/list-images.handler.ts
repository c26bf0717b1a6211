import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ImageView } from '../../domain/image-record.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { ListImagesQuery } from './list-images.query.js';

@QueryHandler(ListImagesQuery)
export class ListImagesHandler implements IQueryHandler<ListImagesQuery> {
  constructor(private readonly images: ImageRepository) {}

  async execute({ recursion }: ListImagesQuery): Promise<string[] | ImageView[]> {
    const all = await this.images.list();
    return recursion === 0 ? all.map((i) => `/1.0/images/${i.fingerprint}`) : all;
  }
}
