import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * VM import reports keyed by the instance's name instead of its row: the migrate context keeps
 * them in step with the instance through its renamed and deleted events, and reads no table of
 * the instances context. Existing reports take their instance's current name.
 */
export class MigrationReportsByName1764417600000 implements MigrationInterface {
  name = 'MigrationReportsByName1764417600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE migration_reports ADD COLUMN instance_name text`);
    await db.query(`UPDATE migration_reports r SET instance_name = i.name FROM instances i WHERE i.id = r.instance_id`);
    await db.query(`
      ALTER TABLE migration_reports
        DROP CONSTRAINT migration_reports_instance_fkey,
        DROP CONSTRAINT migration_reports_instance_key,
        DROP COLUMN instance_id,
        ALTER COLUMN instance_name SET NOT NULL,
        ADD CONSTRAINT migration_reports_instance_name_key UNIQUE (instance_name)`);
  }

  /** A report whose instance is gone has nothing left to reference, and goes. */
  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE migration_reports ADD COLUMN instance_id bigint`);
    await db.query(`UPDATE migration_reports r SET instance_id = i.id FROM instances i WHERE i.name = r.instance_name`);
    await db.query(`DELETE FROM migration_reports WHERE instance_id IS NULL`);
    await db.query(`
      ALTER TABLE migration_reports
        DROP CONSTRAINT migration_reports_instance_name_key,
        DROP COLUMN instance_name,
        ALTER COLUMN instance_id SET NOT NULL,
        ADD CONSTRAINT migration_reports_instance_key UNIQUE (instance_id),
        ADD CONSTRAINT migration_reports_instance_fkey FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE`);
  }
}
