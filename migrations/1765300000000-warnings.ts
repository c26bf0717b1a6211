import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Warnings (LXD's /1.0/warnings): one row per condition, keyed by its type and the entity it is
 * about ('' for the host), so that a condition seen again bumps `count` and `last_seen_at`
 * instead of adding a row.
 */
export class Warnings1765300000000 implements MigrationInterface {
  name = 'Warnings1765300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE warnings (
        uuid          uuid        NOT NULL,
        type          text        NOT NULL,
        entity_url    text        NOT NULL DEFAULT '',
        severity      text        NOT NULL,
        status        text        NOT NULL DEFAULT 'new',
        count         integer     NOT NULL DEFAULT 1,
        last_message  text        NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT warnings_pkey PRIMARY KEY (uuid),
        CONSTRAINT warnings_type_entity_key UNIQUE (type, entity_url),
        CONSTRAINT warnings_status_check CHECK (status IN ('new', 'acknowledged', 'resolved')),
        CONSTRAINT warnings_severity_check CHECK (severity IN ('low', 'moderate', 'high')),
        CONSTRAINT warnings_count_check CHECK (count >= 1)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE warnings`);
  }
}
