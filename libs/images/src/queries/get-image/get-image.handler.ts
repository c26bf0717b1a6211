import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { validateFingerprintPrefix, type ImageView } from '../../domain/image-record.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { GetImageQuery } from './get-image.query.js';

@QueryHandler(GetImageQuery)
export class GetImageHandler implements IQueryHandler<GetImageQuery> {
  constructor(private readonly images: ImageRepository, private readonly files: ImageFileStore) {}

  async execute({ reference }: GetImageQuery): Promise<{ image: ImageView; files: string[]; kind: 'unified' | 'split' }> {
    const record = await this.images.resolve(validateFingerprintPrefix('fingerprint', reference));
    return { image: await this.images.view(record), files: this.files.paths(record.fingerprint, record.fileKind), kind: record.fileKind };
  }
}
