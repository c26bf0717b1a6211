import { Query } from '@nestjs/cqrs';
import type { ApiImageMetadata } from '#images';

/** GET /1.0/instances/{name}/metadata: the volume's metadata.yaml as api.ImageMetadata, with its ETag. */
export class GetInstanceMetadataQuery extends Query<{ metadata: ApiImageMetadata; etag: string }> {
  constructor(readonly name: string) {
    super();
  }
}
