import { open } from 'node:fs/promises';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { exportFileNames } from '../../domain/export-names.js';
import { validateFingerprintPrefix, type ImageView } from '../../domain/image-record.js';
import { ImageFileStore } from '../../infrastructure/image-files.js';
import { ImageRepository } from '../../infrastructure/image.repository.js';
import { GetImageQuery } from './get-image.query.js';

@QueryHandler(GetImageQuery)
export class GetImageHandler implements IQueryHandler<GetImageQuery> {
  constructor(private readonly images: ImageRepository, private readonly files: ImageFileStore) {}

  async execute({ reference }: GetImageQuery): Promise<{ image: ImageView; files: string[]; names: string[]; kind: 'unified' | 'split' }> {
    const record = await this.images.resolve(validateFingerprintPrefix('fingerprint', reference));
    const files = this.files.paths(record.fingerprint, record.fileKind);
    const heads = await Promise.all(files.map(head));
    return { image: await this.images.view(record), files, names: exportFileNames(record.fingerprint, heads), kind: record.fileKind };
  }
}

/* The first 512 bytes of a file (fewer if it is shorter or missing: the export then fails on its own). */
async function head(path: string): Promise<Buffer> {
  const file = await open(path).catch(() => null);
  if (file === null) return Buffer.alloc(0);
  try {
    const buffer = Buffer.alloc(512);
    const { bytesRead } = await file.read(buffer, 0, 512, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
