import { Query } from '@nestjs/cqrs';
import type { ImageView } from '../../domain/image-record.js';

/** An image by fingerprint or unique prefix; `files` also returns where its files are (export). */
export class GetImageQuery extends Query<{ image: ImageView; files: string[]; kind: 'unified' | 'split' }> {
  constructor(readonly reference: string) {
    super();
  }
}
