import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Images as imported (LXD's image format) and their aliases. */
export class Images1764396000000 implements MigrationInterface {
  name = 'Images1764396000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE images (
        id           bigserial   NOT NULL,
        fingerprint  text        NOT NULL,
        type         text        NOT NULL DEFAULT 'container',
        file_kind    text        NOT NULL,
        filename     text        NOT NULL DEFAULT '',
        size         bigint      NOT NULL,
        architecture text        NOT NULL,
        public       boolean     NOT NULL DEFAULT false,
        auto_update  boolean     NOT NULL DEFAULT false,
        cached       boolean     NOT NULL DEFAULT false,
        properties   jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at   timestamptz NOT NULL,
        expires_at   timestamptz,
        uploaded_at  timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        CONSTRAINT images_pkey PRIMARY KEY (id),
        CONSTRAINT images_fingerprint_key UNIQUE (fingerprint),
        CONSTRAINT images_fingerprint_check CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
        CONSTRAINT images_file_kind_check CHECK (file_kind IN ('unified', 'split')),
        CONSTRAINT images_size_check CHECK (size >= 0)
      )`);
    await db.query(`
      CREATE TABLE image_aliases (
        id          bigserial NOT NULL,
        name        text      NOT NULL,
        image_id    bigint    NOT NULL,
        description text      NOT NULL DEFAULT '',
        CONSTRAINT image_aliases_pkey PRIMARY KEY (id),
        CONSTRAINT image_aliases_name_key UNIQUE (name),
        CONSTRAINT image_aliases_image_id_fkey FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX image_aliases_image_id_idx ON image_aliases (image_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE image_aliases`);
    await db.query(`DROP TABLE images`);
  }
}
