import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Instances, their ordered profiles, and their typed quota rows. Volatile (server-owned) keys are
 * kept apart from the user's config so that PUT never touches them.
 */
export class Instances1764388800000 implements MigrationInterface {
  name = 'Instances1764388800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE instances (
        id            bigserial   NOT NULL,
        name          text        NOT NULL,
        type          text        NOT NULL DEFAULT 'container',
        description   text        NOT NULL DEFAULT '',
        architecture  text        NOT NULL,
        ephemeral     boolean     NOT NULL DEFAULT false,
        status        text        NOT NULL,
        config        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        devices       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        volatile      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        image_fingerprint text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_used_at  timestamptz,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT instances_pkey PRIMARY KEY (id),
        CONSTRAINT instances_name_key UNIQUE (name),
        CONSTRAINT instances_type_check CHECK (type IN ('container')),
        CONSTRAINT instances_status_check CHECK (status IN ('Stopped', 'Starting', 'Running', 'Ready', 'Stopping', 'Frozen', 'Error')),
        CONSTRAINT instances_config_is_object CHECK (jsonb_typeof(config) = 'object'),
        CONSTRAINT instances_devices_is_object CHECK (jsonb_typeof(devices) = 'object')
      )`);
    await db.query(`
      CREATE TABLE instance_profiles (
        instance_id bigint   NOT NULL,
        profile_id  bigint   NOT NULL,
        position    smallint NOT NULL,
        CONSTRAINT instance_profiles_pkey PRIMARY KEY (instance_id, profile_id),
        CONSTRAINT instance_profiles_position_key UNIQUE (instance_id, position),
        CONSTRAINT instance_profiles_instance_id_fkey FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE,
        CONSTRAINT instance_profiles_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles (id) ON DELETE RESTRICT
      )`);
    await db.query(`CREATE INDEX instance_profiles_profile_id_idx ON instance_profiles (profile_id)`);
    await db.query(`ALTER TABLE quotas ADD COLUMN instance_id bigint`);
    await db.query(`ALTER TABLE quotas ADD CONSTRAINT quotas_instance_id_fkey FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE`);
    await db.query(`ALTER TABLE quotas ADD CONSTRAINT quotas_instance_id_key UNIQUE (instance_id)`);
    await db.query(`ALTER TABLE quotas DROP CONSTRAINT quotas_owner_check`);
    await db.query(`ALTER TABLE quotas ADD CONSTRAINT quotas_owner_check CHECK ((profile_id IS NULL) <> (instance_id IS NULL))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM quotas WHERE instance_id IS NOT NULL`);
    await db.query(`ALTER TABLE quotas DROP CONSTRAINT quotas_owner_check`);
    await db.query(`ALTER TABLE quotas ADD CONSTRAINT quotas_owner_check CHECK (profile_id IS NOT NULL)`);
    await db.query(`ALTER TABLE quotas DROP CONSTRAINT quotas_instance_id_key`);
    await db.query(`ALTER TABLE quotas DROP CONSTRAINT quotas_instance_id_fkey`);
    await db.query(`ALTER TABLE quotas DROP COLUMN instance_id`);
    await db.query(`DROP TABLE instance_profiles`);
    await db.query(`DROP TABLE instances`);
  }
}
