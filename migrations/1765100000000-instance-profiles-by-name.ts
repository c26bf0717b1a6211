import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An instance's profiles are kept by name, so that the instances context reads its own tables
 * only (the profiles' config comes through the profiles context's queries). The foreign key to
 * profiles (name) keeps what the id did: a profile in use cannot be deleted, and a renamed
 * profile stays attached (ON UPDATE CASCADE).
 */
export class InstanceProfilesByName1765100000000 implements MigrationInterface {
  name = 'InstanceProfilesByName1765100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE instance_profiles ADD COLUMN profile_name text`);
    await db.query(`UPDATE instance_profiles ip SET profile_name = p.name FROM profiles p WHERE p.id = ip.profile_id`);
    await db.query(`ALTER TABLE instance_profiles ALTER COLUMN profile_name SET NOT NULL`);
    await db.query(`ALTER TABLE instance_profiles DROP CONSTRAINT instance_profiles_pkey`);
    await db.query(`ALTER TABLE instance_profiles DROP CONSTRAINT instance_profiles_profile_id_fkey`);
    await db.query(`DROP INDEX instance_profiles_profile_id_idx`);
    await db.query(`ALTER TABLE instance_profiles DROP COLUMN profile_id`);
    await db.query(`ALTER TABLE instance_profiles ADD CONSTRAINT instance_profiles_pkey PRIMARY KEY (instance_id, profile_name)`);
    await db.query(
      `ALTER TABLE instance_profiles ADD CONSTRAINT instance_profiles_profile_name_fkey
         FOREIGN KEY (profile_name) REFERENCES profiles (name) ON UPDATE CASCADE ON DELETE RESTRICT`,
    );
    await db.query(`CREATE INDEX instance_profiles_profile_name_idx ON instance_profiles (profile_name)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE instance_profiles ADD COLUMN profile_id bigint`);
    await db.query(`UPDATE instance_profiles ip SET profile_id = p.id FROM profiles p WHERE p.name = ip.profile_name`);
    await db.query(`ALTER TABLE instance_profiles ALTER COLUMN profile_id SET NOT NULL`);
    await db.query(`ALTER TABLE instance_profiles DROP CONSTRAINT instance_profiles_pkey`);
    await db.query(`ALTER TABLE instance_profiles DROP CONSTRAINT instance_profiles_profile_name_fkey`);
    await db.query(`DROP INDEX instance_profiles_profile_name_idx`);
    await db.query(`ALTER TABLE instance_profiles DROP COLUMN profile_name`);
    await db.query(`ALTER TABLE instance_profiles ADD CONSTRAINT instance_profiles_pkey PRIMARY KEY (instance_id, profile_id)`);
    await db.query(`ALTER TABLE instance_profiles ADD CONSTRAINT instance_profiles_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles (id) ON DELETE RESTRICT`);
    await db.query(`CREATE INDEX instance_profiles_profile_id_idx ON instance_profiles (profile_id)`);
  }
}
