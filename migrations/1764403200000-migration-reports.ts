import type { MigrationInterface, QueryRunner } from 'typeorm';

/** VM import reports, one per imported instance, kept (and renamed, and deleted) with it. */
export class MigrationReports1764403200000 implements MigrationInterface {
  name = 'MigrationReports1764403200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE migration_reports (
        id           bigserial   NOT NULL,
        instance_id  bigint      NOT NULL,
        source       text        NOT NULL,
        source_kind  text        NOT NULL,
        report       jsonb       NOT NULL,
        duration_ms  integer     NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT migration_reports_pkey PRIMARY KEY (id),
        CONSTRAINT migration_reports_instance_key UNIQUE (instance_id),
        CONSTRAINT migration_reports_instance_fkey FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE,
        CONSTRAINT migration_reports_kind_check CHECK (source_kind IN ('tarball', 'directory', 'raw', 'qcow2', 'ssh')),
        CONSTRAINT migration_reports_report_is_object CHECK (jsonb_typeof(report) = 'object')
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE migration_reports`);
  }
}
