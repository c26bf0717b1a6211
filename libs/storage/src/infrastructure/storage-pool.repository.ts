import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database } from '#core';
import { StoragePoolRecord } from './storage-pool.entity.js';

/** What a client set on a pool: its description and user.* keys. */
export interface PoolSettings {
  readonly description: string;
  readonly config: Record<string, string>;
}

const NONE: PoolSettings = { description: '', config: {} };

/** The `storage_pools` rows: the only table the storage context owns. */
@Injectable()
export class StoragePoolRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async settings(name: string): Promise<PoolSettings> {
    const row = await this.db.dataSource.manager.findOneBy(StoragePoolRecord, { name });
    return row ? { description: row.description, config: row.config } : NONE;
  }

  /**
   * Runs `change` on the pool's settings in a transaction that holds its row (made if missing)
   * FOR UPDATE, so changes to one pool are serialized, and writes what it returns.
   */
  async change(name: string, change: (current: PoolSettings) => PoolSettings | Promise<PoolSettings>): Promise<void> {
    await this.db.dataSource.manager.transaction(async (tx) => {
      await tx.query(`INSERT INTO storage_pools (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
      const row = await tx.findOneOrFail(StoragePoolRecord, { where: { name }, lock: { mode: 'pessimistic_write' } });
      const next = await change({ description: row.description, config: row.config });
      await tx.update(StoragePoolRecord, { name }, { description: next.description, config: next.config, updatedAt: () => 'now()' });
    });
  }
}
