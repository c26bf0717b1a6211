import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Managed networks (bridges with dnsmasq and NAT); `config` holds the resolved ipv4.address. */
export class Networks1764399600000 implements MigrationInterface {
  name = 'Networks1764399600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE networks (
        id          bigserial   NOT NULL,
        name        text        NOT NULL,
        type        text        NOT NULL DEFAULT 'bridge',
        description text        NOT NULL DEFAULT '',
        config      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT networks_pkey PRIMARY KEY (id),
        CONSTRAINT networks_name_key UNIQUE (name),
        CONSTRAINT networks_type_check CHECK (type IN ('bridge')),
        CONSTRAINT networks_config_is_object CHECK (jsonb_typeof(config) = 'object')
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE networks`);
  }
}
