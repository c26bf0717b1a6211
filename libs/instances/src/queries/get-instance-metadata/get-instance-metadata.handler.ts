import { createHash } from 'node:crypto';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InstanceMetadataStore, type ApiImageMetadata } from '#images';
import { InstanceVolumes } from '../../infrastructure/instance-volume.js';
import { GetInstanceMetadataQuery } from './get-instance-metadata.query.js';

/** The ETag of an instance's metadata: a hash of what GET shows, so a PUT or PATCH can be made conditional. */
export function metadataEtag(metadata: ApiImageMetadata): string {
  return createHash('sha256').update(JSON.stringify(metadata)).digest('hex');
}

@QueryHandler(GetInstanceMetadataQuery)
export class GetInstanceMetadataHandler implements IQueryHandler<GetInstanceMetadataQuery> {
  constructor(
    private readonly volumes: InstanceVolumes,
    private readonly store: InstanceMetadataStore,
  ) {}

  async execute({ name }: GetInstanceMetadataQuery): Promise<{ metadata: ApiImageMetadata; etag: string }> {
    const metadata = await this.store.read(await this.volumes.path(name));
    return { metadata, etag: metadataEtag(metadata) };
  }
}
