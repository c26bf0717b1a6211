import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Server-wide settings (`config` of GET /1.0), such as the memory admission ratio. */
export class ServerConfig1764392400000 implements MigrationInterface {
  name = 'ServerConfig1764392400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE server_config (
        key   text NOT NULL,
        value text NOT NULL,
        CONSTRAINT server_config_pkey PRIMARY KEY (key)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE server_config`);
  }
}
