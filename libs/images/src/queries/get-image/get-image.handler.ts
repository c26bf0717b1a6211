import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { BERTH_CONFIG, type BerthConfig } from '#core';
import { validateFingerprintPrefix, type ImageView } from '../../domain/image-record.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { GetImageQuery } from './get-image.query.js';

@QueryHandler(GetImageQuery)
export class GetImageHandler implements IQueryHandler<GetImageQuery> {
  private readonly files: ImageFileStore;

  constructor(private readonly images: ImageRepository, @Inject(BERTH_CONFIG) config: BerthConfig) {
    this.files = new ImageFileStore(config.BERTH_DIR);
  }

  async execute({ reference }: GetImageQuery): Promise<{ image: ImageView; files: string[]; kind: 'unified' | 'split' }> {
    const record = await this.images.resolve(validateFingerprintPrefix('fingerprint', reference));
    return { image: await this.images.view(record), files: this.files.paths(record.fingerprint, record.fileKind), kind: record.fileKind };
  }
}
