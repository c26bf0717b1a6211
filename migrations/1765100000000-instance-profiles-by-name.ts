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
    await rekey(db, BY_ID, BY_NAME);
  }

  async down(db: QueryRunner): Promise<void> {
    await rekey(db, BY_NAME, BY_ID);
  }
}

/** How instance_profiles refers to a profile. */
interface ProfileKey {
  readonly column: string;
  readonly type: string;
  /** The profiles column it holds. */
  readonly target: string;
  readonly onUpdate: string;
}

const BY_ID: ProfileKey = { column: 'profile_id', type: 'bigint', target: 'id', onUpdate: '' };
const BY_NAME: ProfileKey = { column: 'profile_name', type: 'text', target: 'name', onUpdate: ' ON UPDATE CASCADE' };

/** Replaces instance_profiles' key `from` by `to`, carrying every row over, with the same constraints. */
async function rekey(db: QueryRunner, from: ProfileKey, to: ProfileKey): Promise<void> {
  await db.query(`ALTER TABLE instance_profiles ADD COLUMN ${to.column} ${to.type}`);
  await db.query(`UPDATE instance_profiles ip SET ${to.column} = p.${to.target} FROM profiles p WHERE p.${from.target} = ip.${from.column}`);
  await db.query(`ALTER TABLE instance_profiles ALTER COLUMN ${to.column} SET NOT NULL`);
  await db.query(`ALTER TABLE instance_profiles DROP CONSTRAINT instance_profiles_pkey`);
  await db.query(`ALTER TABLE instance_profiles DROP CONSTRAINT instance_profiles_${from.column}_fkey`);
  await db.query(`DROP INDEX instance_profiles_${from.column}_idx`);
  await db.query(`ALTER TABLE instance_profiles DROP COLUMN ${from.column}`);
  await db.query(`ALTER TABLE instance_profiles ADD CONSTRAINT instance_profiles_pkey PRIMARY KEY (instance_id, ${to.column})`);
  await db.query(
    `ALTER TABLE instance_profiles ADD CONSTRAINT instance_profiles_${to.column}_fkey
       FOREIGN KEY (${to.column}) REFERENCES profiles (${to.target})${to.onUpdate} ON DELETE RESTRICT`,
  );
  await db.query(`CREATE INDEX instance_profiles_${to.column}_idx ON instance_profiles (${to.column})`);
}
