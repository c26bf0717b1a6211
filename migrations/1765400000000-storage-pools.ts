import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a client may set on a storage pool (its description and user.* keys). The pool itself
 * lives on disk under BERTH_DIR; a pool without a row has an empty description and no user keys.
 */
export class StoragePools1765400000000 implements MigrationInterface {
  name = 'StoragePools1765400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE storage_pools (
        name        text        NOT NULL,
        description text        NOT NULL DEFAULT '',
        config      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT storage_pools_pkey PRIMARY KEY (name),
        CONSTRAINT storage_pools_config_is_object CHECK (jsonb_typeof(config) = 'object')
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE storage_pools`);
  }
}
