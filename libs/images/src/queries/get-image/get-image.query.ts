import { Query } from '@nestjs/cqrs';
import type { ImageView } from '../../domain/image-record.js';

/**
 * An image by fingerprint or unique prefix; also where its files are, and the names an export
 * gives them (LXD's: the fingerprint and the suffix of each file's compression).
 */
export class GetImageQuery extends Query<{ image: ImageView; files: string[]; names: string[]; kind: 'unified' | 'split' }> {
  constructor(readonly reference: string) {
    super();
  }
}
