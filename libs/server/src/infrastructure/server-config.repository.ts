import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database } from '#core';
import { ServerConfigRecord } from './server-config.entity.js';

/** Server settings in Postgres. The last read is cached so GET /1.0 answers while the database is down. */
@Injectable()
export class ServerConfigRepository {
  private cached: Record<string, string> = {};

  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async get(): Promise<Record<string, string>> {
    const rows = await this.db.dataSource.manager.find(ServerConfigRecord, { order: { key: 'ASC' } });
    this.cached = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    return { ...this.cached };
  }

  lastKnown(): Record<string, string> {
    return { ...this.cached };
  }

  /** Replaces the whole config in one transaction. */
  async replace(config: Record<string, string>): Promise<void> {
    await this.db.dataSource.manager.transaction(async (tx) => {
      await tx.query('LOCK TABLE server_config IN EXCLUSIVE MODE');
      await tx.clear(ServerConfigRecord);
      if (Object.keys(config).length > 0) await tx.insert(ServerConfigRecord, Object.entries(config).map(([key, value]) => ({ key, value })));
    });
    this.cached = { ...config };
  }
}
