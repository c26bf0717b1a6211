import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetAliasQuery, GetImageQuery } from '#images';
import type { InstanceSource } from '../domain/source.js';

/** Resolves an image source (alias, fingerprint or unique prefix) through the images context. */
@Injectable()
export class ImageResolver {
  constructor(private readonly queries: QueryBus) {}

  async resolve(source: Exclude<InstanceSource, { type: 'none' }>): Promise<{ fingerprint: string; architecture: string }> {
    const reference = 'alias' in source ? (await this.queries.execute(new GetAliasQuery(source.alias))).target : source.fingerprint;
    const { image } = await this.queries.execute(new GetImageQuery(reference));
    return { fingerprint: image.fingerprint, architecture: image.architecture };
  }
}
