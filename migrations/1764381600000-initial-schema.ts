import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Profiles, operations, and the `default` profile every instance starts from. */
export class InitialSchema1764381600000 implements MigrationInterface {
  name = 'InitialSchema1764381600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE profiles (
        id          bigserial   NOT NULL,
        name        text        NOT NULL,
        description text        NOT NULL DEFAULT '',
        config      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        devices     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT profiles_pkey PRIMARY KEY (id),
        CONSTRAINT profiles_name_key UNIQUE (name),
        CONSTRAINT profiles_config_is_object CHECK (jsonb_typeof(config) = 'object'),
        CONSTRAINT profiles_devices_is_object CHECK (jsonb_typeof(devices) = 'object')
      )`);
    await db.query(`
      CREATE TABLE operations (
        id          uuid        NOT NULL,
        class       text        NOT NULL,
        description text        NOT NULL,
        status_code integer     NOT NULL,
        resources   jsonb       NOT NULL DEFAULT '{}'::jsonb,
        metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
        may_cancel  boolean     NOT NULL DEFAULT false,
        err         text        NOT NULL DEFAULT '',
        owner       text        NOT NULL,
        boot_id     uuid        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT operations_pkey PRIMARY KEY (id),
        CONSTRAINT operations_class_check CHECK (class IN ('task', 'websocket', 'token'))
      )`);
    await db.query(`CREATE INDEX operations_owner_status_idx ON operations (owner, status_code)`);
    await db.query(`CREATE INDEX operations_updated_at_idx ON operations (updated_at)`);
    await db.query(`INSERT INTO profiles (name, description) VALUES ('default', 'Default Berth profile')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE operations`);
    await db.query(`DROP TABLE profiles`);
  }
}
