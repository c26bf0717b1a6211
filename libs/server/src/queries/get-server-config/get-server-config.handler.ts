import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isDatabaseUnavailable } from '#core';
import { ServerConfigRepository } from '../../infrastructure/server-config.repository.js';
import { GetServerConfigQuery } from './get-server-config.query.js';

@QueryHandler(GetServerConfigQuery)
export class GetServerConfigHandler implements IQueryHandler<GetServerConfigQuery> {
  constructor(private readonly config: ServerConfigRepository) {}

  async execute({ cached }: GetServerConfigQuery): Promise<Record<string, string>> {
    try {
      return await this.config.get();
    } catch (err) {
      if (cached && isDatabaseUnavailable(err)) return this.config.lastKnown();
      throw err;
    }
  }
}
