import { Query } from '@nestjs/cqrs';
import type { ImageView } from '../../domain/image-record.js';

export class ListImagesQuery extends Query<string[] | ImageView[]> {
  constructor(readonly recursion: 0 | 1) {
    super();
  }
}
